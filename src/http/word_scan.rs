//! Scans of the text every request reads or writes, a machine word (eight bytes) at a time:
//! where a JSON string's plain run ends (every V2 answer writes the model's name, version and
//! output names, checked first for escapes), whether a string is printable ASCII with nothing
//! Python's `json.dumps` escapes (the seed's answer echoes its form field), and whether a form
//! needs decoding. Such texts are dozens of bytes; a byte-at-a-time loop spends a handful of
//! instructions on each.

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

/// Whether some byte of `word` is `byte`.
#[inline(always)]
fn any_equal(word: u64, byte: u8) -> bool {
    any_below(word ^ (ONES * u64::from(byte)), 1)
}

/// Whether `byte` ends a string's plain run: a quote, a backslash, or a control character
/// (which JSON refuses unescaped). These are exactly the bytes serde_json escapes.
#[inline(always)]
fn ends_plain(byte: u8) -> bool {
    byte == b'"' || byte == b'\\' || byte < 0x20
}

/// Whether some byte of `word` is above `n` (below `0x80`).
#[inline(always)]
fn any_above(word: u64, n: u8) -> bool {
    // A byte above `n` gets its high bit from the addition or had it already.
    (word.wrapping_add(ONES * u64::from(0x7f - n)) | word) & HIGHS != 0
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
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let word = u64::from_le_bytes(chunk.try_into().expect("chunks of eight"));
        if any_below(word, b' ')
            || any_above(word, b'~')
            || any_equal(word, b'"')
            || any_equal(word, b'\\')
        {
            return false;
        }
    }
    words.remainder().iter().all(|&b| python_plain_byte(b))
}

/// Whether `bytes` holds `a` or `b`.
#[inline]
pub fn contains_either(bytes: &[u8], a: u8, b: u8) -> bool {
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let word = u64::from_le_bytes(chunk.try_into().expect("chunks of eight"));
        if any_equal(word, a) || any_equal(word, b) {
            return true;
        }
    }
    words.remainder().iter().any(|&c| c == a || c == b)
}

/// The position of the first byte of `bytes` that ends a string's plain run ([`ends_plain`]).
#[inline]
pub fn plain_end(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    for chunk in bytes.chunks_exact(8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("chunks of eight"));
        if any_equal(word, b'"') || any_equal(word, b'\\') || any_below(word, 0x20) {
            break;
        }
        at += 8;
    }
    bytes[at..]
        .iter()
        .position(|&b| ends_plain(b))
        .map(|p| at + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_run_ends_where_a_byte_by_byte_scan_says() {
        // Every byte value, at every position of texts up to three words long.
        for len in 0..24 {
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut text = vec![b'a'; len];
                    text[at] = byte;
                    let expected = text.iter().position(|&b| ends_plain(b));
                    assert_eq!(plain_end(&text), expected, "{byte:#x} at {at} of {len}");
                }
            }
        }
        // The same sweep for the other two scans.
        for len in 0..24 {
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut text = vec![b'a'; len];
                    text[at] = byte;
                    assert_eq!(
                        python_plain(&text),
                        text.iter().all(|&b| python_plain_byte(b)),
                        "{byte:#x} at {at} of {len}"
                    );
                    assert_eq!(
                        contains_either(&text, b'%', b'+'),
                        text.iter().any(|&b| b == b'%' || b == b'+'),
                        "{byte:#x} at {at} of {len}"
                    );
                }
            }
        }
        // Two candidates in one word: the first counts.
        assert_eq!(plain_end(b"ab\\cd\"efgh"), Some(2));
        assert_eq!(plain_end("ünïcödé and more text".as_bytes()), None);
    }
}
