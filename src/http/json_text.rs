//! Where a JSON string's plain run ends, found a machine word at a time: every V2 answer
//! writes the model's name, version and output names as JSON strings, and checks first that
//! none needs an escape. A version (a digest) is dozens of bytes; a word holds eight.

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
        // Two candidates in one word: the first counts.
        assert_eq!(plain_end(b"ab\\cd\"efgh"), Some(2));
        assert_eq!(plain_end("ünïcödé and more text".as_bytes()), None);
    }
}
