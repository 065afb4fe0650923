//! Characters as Python's `re` and `str` class them (`unicode`'s tables, made from Python's
//! Unicode database): word characters (`\w`, `str.isalnum()` or `_`), decimal digits (`\d`)
//! and whitespace (`\s`, and what `str.split()` splits on). Rust's own classes differ (its
//! `\w` takes combining marks, which Python's does not; its `\s` leaves out the ASCII
//! separators `\x1c`–`\x1f`, which Python's takes), so tokens are cut by these.

use super::unicode::{DIGIT, SPACE, WORD};

/// Whether `c` is in one of `table`'s ranges (sorted, disjoint).
fn within(table: &[(u32, u32)], c: char) -> bool {
    let c = c as u32;
    table
        .binary_search_by(|&(start, end)| {
            if end < c {
                std::cmp::Ordering::Less
            } else if start > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Python's `\w` on a `str` pattern.
#[inline]
pub fn is_word(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '_'
    } else {
        within(WORD, c)
    }
}

/// Python's `\d` on a `str` pattern.
#[inline]
pub fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        within(DIGIT, c)
    }
}

/// Python's `\s` on a `str` pattern, and `str.isspace()`.
#[inline]
pub fn is_space(c: char) -> bool {
    if c.is_ascii() {
        matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ')
    } else {
        within(SPACE, c)
    }
}

/// The ranges of a class, for a regex: `table`, or everything outside it.
pub fn ranges(table: &[(u32, u32)], negated: bool) -> Vec<(u32, u32)> {
    if !negated {
        return table.to_vec();
    }
    let mut out = Vec::new();
    let mut next = 0u32;
    for &(start, end) in table {
        if start > next {
            out.push((next, start - 1));
        }
        next = end + 1;
    }
    if next <= 0x10FFFF {
        out.push((next, 0x10FFFF));
    }
    out
}

/// The table of a class escape (`w`, `d` or `s`).
pub fn table(class: char) -> &'static [(u32, u32)] {
    match class {
        'w' => WORD,
        'd' => DIGIT,
        _ => SPACE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_classes_not_rust_ones() {
        // A combining mark (Devanagari vowel sign) is not a word character to Python.
        assert!(is_word('न') && !is_word('\u{947}'));
        assert!(is_word('²') && is_word('_') && is_word('é') && !is_word('-'));
        assert!(is_space('\x1c') && is_space('\u{3000}') && !is_space('\u{200b}'));
        assert!(is_digit('٣') && !is_digit('²'));
    }

    #[test]
    fn negated_ranges_cover_the_rest() {
        let r = ranges(&[(0, 9), (20, 0x10FFFF)], true);
        assert_eq!(r, [(10, 19)]);
        assert_eq!(ranges(&[(5, 9)], true), [(0, 4), (10, 0x10FFFF)]);
    }
}
