//! Whether a string can be written between quotes as it is, checked a machine word (eight
//! bytes) at a time: every V2 answer writes the model's name, version and output names as JSON
//! strings, and the seed's answer echoes its form field as Python's `json.dumps` does. Such
//! texts are dozens of bytes; a byte-at-a-time loop spends a handful of instructions on each.

/// A byte of `0x01` in every position of a word.
const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
/// The high bit of every byte of a word.
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// Whether some byte of `word` is below `n` (at most `0x80`). The borrows of the subtraction
/// can mark bytes above a true one, never a word without one, so the answer for the word as
/// a whole is exact.
#[inline(always)]
fn any_below(word: u64, n: u8) -> bool {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS != 0
}

/// Whether some byte of `word` is above `n` (below `0x80`). A carry out of a byte already
/// at `0x80` or more can only mark a word that has such a byte.
#[inline(always)]
fn any_above(word: u64, n: u8) -> bool {
    // A byte above `n` gets its high bit from the addition or had it already.
    (word.wrapping_add(ONES * u64::from(0x7f - n)) | word) & HIGHS != 0
}

/// Whether some byte of `word` is `byte`.
#[inline(always)]
fn any_equal(word: u64, byte: u8) -> bool {
    any_below(word ^ (ONES * u64::from(byte)), 1)
}

/// Whether every byte of `bytes` passes `plain`, whole words first: `word_has_other` says
/// whether a word holds a byte that does not.
#[inline(always)]
fn all_plain(
    bytes: &[u8],
    word_has_other: impl Fn(u64) -> bool,
    plain: impl Fn(u8) -> bool,
) -> bool {
    let mut words = bytes.chunks_exact(8);
    let whole = words
        .all(|chunk| !word_has_other(u64::from_le_bytes(chunk.try_into().expect("eight bytes"))));
    whole && words.remainder().iter().all(|&b| plain(b))
}

/// Whether `byte` goes into a JSON string as it is: not a quote, a backslash or a control
/// character, exactly the bytes serde_json escapes.
#[inline(always)]
fn json_plain_byte(byte: u8) -> bool {
    byte != b'"' && byte != b'\\' && byte >= 0x20
}

/// Whether every byte of `bytes` is [`json_plain_byte`].
#[inline]
pub fn json_plain(bytes: &[u8]) -> bool {
    all_plain(
        bytes,
        |w| any_equal(w, b'"') || any_equal(w, b'\\') || any_below(w, 0x20),
        json_plain_byte,
    )
}

/// Whether `byte` is printable ASCII that Python's `json.dumps` writes as it is: `' '` to
/// `'~'`, but the quote and the backslash.
#[inline(always)]
fn python_plain_byte(byte: u8) -> bool {
    (b' '..=b'~').contains(&byte) && byte != b'"' && byte != b'\\'
}

/// Whether every byte of `bytes` is [`python_plain_byte`].
#[inline]
pub fn python_plain(bytes: &[u8]) -> bool {
    all_plain(
        bytes,
        |w| any_below(w, b' ') || any_above(w, b'~') || any_equal(w, b'"') || any_equal(w, b'\\'),
        python_plain_byte,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scan_agrees_with_its_byte_by_byte_rule() {
        // Every byte value, at every position of texts up to three words long.
        for len in 0..24 {
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut text = vec![b'a'; len];
                    text[at] = byte;
                    let why = format!("{byte:#x} at {at} of {len}");
                    assert_eq!(
                        json_plain(&text),
                        text.iter().all(|&b| json_plain_byte(b)),
                        "{why}"
                    );
                    assert_eq!(
                        python_plain(&text),
                        text.iter().all(|&b| python_plain_byte(b)),
                        "{why}"
                    );
                }
            }
        }
        assert!(json_plain("ünïcödé and more text".as_bytes()));
        assert!(!python_plain("ünïcödé and more text".as_bytes()));
        assert!(!json_plain(b"ab\\cd\"efgh"));
    }
}
