//! A vectorizer's `token_pattern`, a Python regular expression, matched as Python's
//! `re.findall` matches it. The default, `(?u)\b\w\w+\b`, is every run of two or more of
//! Python's word characters, cut without a regex. Any other pattern is translated into the
//! `regex` crate's syntax with Python's meaning spelled out: `\w`, `\d` and `\s` become the
//! classes of Python's Unicode database (`chars`), every literal an escaped code point, `.`,
//! `^` and `$` what Python's flags make them. A pattern whose Python meaning the translation
//! cannot keep is refused at load, with the reason: backreferences, lookaround, atomic groups
//! and possessive quantifiers, conditionals, named characters, `(?i)` and `(?L)`, `$` outside
//! multiline mode, and patterns that can match the empty string.
//!
//! One construct is kept but checked at predict time: `\b` and `\B` in Unicode mode are
//! word boundaries by Python's word characters, which the `regex` crate places by its own; a
//! document holding a character the two disagree on (a combining mark, a superscript digit)
//! is refused rather than tokenized differently.

use regex::Regex;

use super::chars;

/// How documents are cut into tokens.
#[derive(Clone, Debug)]
pub enum Tokenizer {
    /// `(?u)\b\w\w+\b`: runs of two or more word characters.
    Runs,
    Regex {
        regex: Regex,
        /// The pattern has one capturing group, whose text is the token (as `findall` gives
        /// it).
        group: bool,
        /// The pattern has Unicode word boundaries (see the module's docs).
        boundaries: bool,
    },
}

/// A document a pattern cannot tokenize exactly.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the character {character:?} (U+{code:04X}) is a word character to one of Python and the \
     regex engine and not to the other, so the token pattern's word boundary (\\b) cannot be \
     placed as scikit-learn places it"
)]
pub struct Inexact {
    pub character: char,
    pub code: u32,
}

impl Tokenizer {
    /// The tokenizer of a Python `token_pattern`, or why it cannot be matched as Python does.
    pub fn new(pattern: &str) -> Result<Self, String> {
        if matches!(pattern, r"(?u)\b\w\w+\b" | r"\b\w\w+\b") {
            return Ok(Self::Runs);
        }
        let translated = Translator::new(pattern).translate()?;
        let hir = regex_syntax::Parser::new()
            .parse(&translated.regex)
            .map_err(|e| format!("it does not translate into a regex: {e}"))?;
        if hir.properties().minimum_len() == Some(0) {
            return Err(
                "it can match an empty string, which Python's findall and the regex \
                 engine step over differently"
                    .into(),
            );
        }
        let regex = Regex::new(&translated.regex)
            .map_err(|e| format!("it does not translate into a regex: {e}"))?;
        let groups = regex.captures_len() - 1;
        if groups > 1 {
            return Err(format!(
                "it has {groups} capturing groups; scikit-learn takes at most one"
            ));
        }
        Ok(Self::Regex {
            regex,
            group: groups == 1,
            boundaries: translated.boundaries,
        })
    }

    /// Calls `token` with each token of `doc`, in order.
    pub fn tokens<'d>(&self, doc: &'d str, mut token: impl FnMut(&'d str)) -> Result<(), Inexact> {
        match self {
            Self::Runs => {
                let mut start: Option<(usize, usize)> = None;
                for (at, c) in doc.char_indices() {
                    match (chars::is_word(c), start) {
                        (true, None) => start = Some((at, 1)),
                        (true, Some((s, n))) => start = Some((s, n + 1)),
                        (false, Some((s, n))) => {
                            if n >= 2 {
                                token(&doc[s..at]);
                            }
                            start = None;
                        }
                        (false, None) => {}
                    }
                }
                if let Some((s, n)) = start
                    && n >= 2
                {
                    token(&doc[s..]);
                }
            }
            Self::Regex {
                regex,
                group,
                boundaries,
            } => {
                if *boundaries
                    && let Some(c) = doc
                        .chars()
                        .find(|&c| chars::is_word(c) != regex_syntax::is_word_character(c))
                {
                    return Err(Inexact {
                        character: c,
                        code: c as u32,
                    });
                }
                if *group {
                    for captures in regex.captures_iter(doc) {
                        token(captures.get(1).map_or("", |m| m.as_str()));
                    }
                } else {
                    for m in regex.find_iter(doc) {
                        token(m.as_str());
                    }
                }
            }
        }
        Ok(())
    }
}

/// A pattern in the `regex` crate's syntax with Python's meaning.
struct Translated {
    regex: String,
    boundaries: bool,
}

/// Python's inline flags that change what the translation writes.
#[derive(Clone, Copy, Debug, Default)]
struct Flags {
    ascii: bool,
    dotall: bool,
    multiline: bool,
    verbose: bool,
}

struct Translator {
    pattern: Vec<char>,
    at: usize,
    out: String,
    flags: Flags,
    /// The flags to restore at each open group's end.
    open: Vec<Flags>,
    boundaries: bool,
    /// Whether anything but global flags has been read (they must come first).
    started: bool,
}

/// Python's whitespace in verbose patterns.
fn verbose_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// One code point, escaped for the regex crate.
fn literal(c: char) -> String {
    format!("\\x{{{:X}}}", c as u32)
}

/// A class of ranges for the regex crate (surrogates, which it cannot name, left out).
fn class(ranges: &[(u32, u32)], negated: bool) -> String {
    let mut out = String::from(if negated { "[^" } else { "[" });
    for &(start, end) in ranges {
        for (s, e) in [(start, end.min(0xD7FF)), (start.max(0xE000), end)] {
            if s <= e {
                out.push_str(&format!("\\x{{{s:X}}}-\\x{{{e:X}}}"));
            }
        }
    }
    out.push(']');
    out
}

impl Translator {
    fn new(pattern: &str) -> Self {
        Self {
            pattern: pattern.chars().collect(),
            at: 0,
            out: String::new(),
            flags: Flags::default(),
            open: Vec::new(),
            boundaries: false,
            started: false,
        }
    }

    fn peek(&self) -> Option<char> {
        self.pattern.get(self.at).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.at += usize::from(c.is_some());
        c
    }

    fn eat(&mut self, c: char) -> bool {
        let yes = self.peek() == Some(c);
        self.at += usize::from(yes);
        yes
    }

    fn translate(mut self) -> Result<Translated, String> {
        while let Some(c) = self.next() {
            if self.flags.verbose && verbose_space(c) {
                continue;
            }
            if self.flags.verbose && c == '#' {
                while self.next().is_some_and(|c| c != '\n') {}
                continue;
            }
            if c == '(' && self.peek() == Some('?') && self.global_flags()? {
                continue;
            }
            self.started = true;
            match c {
                '\\' => {
                    let text = self.escape()?;
                    self.out.push_str(&text);
                }
                '[' => {
                    let text = self.class()?;
                    self.out.push_str(&text);
                }
                '(' => self.group()?,
                ')' => {
                    self.flags = self.open.pop().ok_or("it has a ')' that closes no group")?;
                    self.out.push(')');
                }
                '|' => self.out.push('|'),
                '.' if self.flags.dotall => self.out.push_str("(?s:.)"),
                '.' => self.out.push_str("[^\\n]"),
                '^' if self.flags.multiline => self.out.push_str("(?m:^)"),
                '^' => self.out.push_str("\\A"),
                '$' if self.flags.multiline => self.out.push_str("(?m:$)"),
                '$' => {
                    return Err(
                        "it uses '$' outside multiline mode, where Python also matches before \
                         a final newline"
                            .into(),
                    );
                }
                '*' | '+' | '?' => {
                    self.out.push(c);
                    self.quantifier_suffix()?;
                }
                '{' => match self.repetition() {
                    Some(text) => {
                        self.out.push_str(&text);
                        self.quantifier_suffix()?;
                    }
                    None => self.out.push_str(&literal('{')),
                },
                other => self.out.push_str(&literal(other)),
            }
        }
        if !self.open.is_empty() {
            return Err("it leaves a group open".into());
        }
        Ok(Translated {
            regex: self.out,
            boundaries: self.boundaries,
        })
    }

    /// A lazy `?` after a quantifier is kept; a possessive `+` is refused.
    fn quantifier_suffix(&mut self) -> Result<(), String> {
        if self.eat('?') {
            self.out.push('?');
        } else if self.peek() == Some('+') {
            return Err("it uses a possessive quantifier".into());
        }
        Ok(())
    }

    /// `{m}`, `{m,}`, `{,n}` or `{m,n}` after its `{`, as the regex crate writes it; `None`
    /// (and nothing read) when the brace is a literal, as Python takes it.
    fn repetition(&mut self) -> Option<String> {
        let start = self.at;
        let mut low = String::new();
        while let Some(d) = self.peek().filter(char::is_ascii_digit) {
            low.push(d);
            self.at += 1;
        }
        let text = if self.eat('}') {
            (!low.is_empty()).then(|| format!("{{{low}}}"))
        } else if self.eat(',') {
            let mut high = String::new();
            while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                high.push(d);
                self.at += 1;
            }
            let low = if low.is_empty() { "0".into() } else { low };
            self.eat('}').then(|| format!("{{{low},{high}}}"))
        } else {
            None
        };
        if text.is_none() {
            self.at = start;
        }
        text
    }

    /// Global flags `(?aimsux)` at the pattern's start; false (nothing read) when the group
    /// is something else.
    fn global_flags(&mut self) -> Result<bool, String> {
        let start = self.at;
        self.at += 1; // the '?'
        let mut letters = String::new();
        while let Some(c) = self.peek().filter(char::is_ascii_alphabetic) {
            letters.push(c);
            self.at += 1;
        }
        if letters.is_empty() || !self.eat(')') {
            self.at = start;
            return Ok(false);
        }
        if self.started {
            return Err("it sets global flags after the pattern's start".into());
        }
        self.flags = self.apply_flags(self.flags, &letters, true)?;
        Ok(true)
    }

    fn apply_flags(&self, mut flags: Flags, letters: &str, on: bool) -> Result<Flags, String> {
        for letter in letters.chars() {
            match letter {
                'u' => {}
                'a' => flags.ascii = on,
                's' => flags.dotall = on,
                'm' => flags.multiline = on,
                'x' => flags.verbose = on,
                'i' => {
                    return Err("it ignores case ((?i)), which Python folds its own way".into());
                }
                'L' => return Err("it depends on the locale ((?L))".into()),
                other => return Err(format!("it uses the flag '{other}'")),
            }
        }
        Ok(flags)
    }

    /// A group after its `(`.
    fn group(&mut self) -> Result<(), String> {
        let saved = self.flags;
        if !self.eat('?') {
            self.open.push(saved);
            self.out.push('(');
            return Ok(());
        }
        match self.next() {
            Some(':') => {
                self.open.push(saved);
                self.out.push_str("(?:");
            }
            Some('P') if self.eat('<') => {
                let mut name = String::new();
                while let Some(c) = self.next() {
                    if c == '>' {
                        break;
                    }
                    if !(c.is_alphanumeric() || c == '_') {
                        return Err(format!("it names a group with the character {c:?}"));
                    }
                    name.push(c);
                }
                self.open.push(saved);
                self.out.push_str(&format!("(?P<{name}>"));
            }
            Some('P') => return Err("it refers back to a named group ((?P=…))".into()),
            Some('#') => while self.next().is_some_and(|c| c != ')') {},
            Some('=' | '!') => return Err("it uses a lookahead".into()),
            Some('<') => return Err("it uses a lookbehind".into()),
            Some('>') => return Err("it uses an atomic group".into()),
            Some('(') => return Err("it uses a conditional group".into()),
            Some(c) if c.is_ascii_alphabetic() || c == '-' => {
                self.at -= 1;
                let mut on = String::new();
                while let Some(c) = self.peek().filter(char::is_ascii_alphabetic) {
                    on.push(c);
                    self.at += 1;
                }
                let mut off = String::new();
                if self.eat('-') {
                    while let Some(c) = self.peek().filter(char::is_ascii_alphabetic) {
                        off.push(c);
                        self.at += 1;
                    }
                }
                if !self.eat(':') {
                    return Err("it sets flags in the middle of the pattern".into());
                }
                let flags = self.apply_flags(saved, &on, true)?;
                self.flags = self.apply_flags(flags, &off, false)?;
                self.open.push(saved);
                self.out.push_str("(?:");
            }
            _ => return Err("it has a group syntax Python's re would not take".into()),
        }
        Ok(())
    }

    /// The class of `\w`, `\d`, `\s` (negated when upper case) under the current flags.
    fn class_ranges(&self, letter: char) -> Vec<(u32, u32)> {
        let negated = letter.is_ascii_uppercase();
        let table: &[(u32, u32)] = match (letter.to_ascii_lowercase(), self.flags.ascii) {
            ('w', true) => &[(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
            ('d', true) => &[(0x30, 0x39)],
            ('s', true) => &[(0x09, 0x0D), (0x20, 0x20)],
            (other, false) => chars::table(other),
            _ => unreachable!("w, d or s"),
        };
        chars::ranges(table, negated)
    }

    /// A code point written as `\x..`, `\u....`, `\U........` or an octal escape, after
    /// its letter or first digit.
    fn code_point(&mut self, kind: char) -> Result<char, String> {
        let (digits, radix) = match kind {
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            _ => (3, 8),
        };
        let mut text = String::new();
        if radix == 8 {
            text.push(kind);
        }
        while text.len() < digits {
            match self.peek().filter(|c| c.is_digit(radix)) {
                Some(c) => {
                    text.push(c);
                    self.at += 1;
                }
                None if radix == 8 => break,
                None => return Err(format!("it has an incomplete \\{kind} escape")),
            }
        }
        u32::from_str_radix(&text, radix)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| format!("it escapes a code point that is not a character ({text})"))
    }

    /// An escape outside a class, after its backslash.
    fn escape(&mut self) -> Result<String, String> {
        let c = self.next().ok_or("it ends in a lone backslash")?;
        Ok(match c {
            'w' | 'W' | 'd' | 'D' | 's' | 'S' => class(&self.class_ranges(c), false),
            'b' | 'B' if self.flags.ascii => format!("(?-u:\\{c})"),
            'b' | 'B' => {
                self.boundaries = true;
                format!("\\{c}")
            }
            'A' => "\\A".into(),
            'Z' => "\\z".into(),
            '0' => literal(self.code_point('0')?),
            '1'..='9' => {
                let octal = self.pattern[self.at - 1..]
                    .iter()
                    .take(3)
                    .filter(|d| d.is_digit(8))
                    .count()
                    == 3;
                if !octal {
                    return Err("it refers back to a group (\\1…)".into());
                }
                literal(self.code_point(c)?)
            }
            'N' => return Err("it names a character (\\N{…})".into()),
            other => literal(self.simple_escape(other)?),
        })
    }

    /// A one-letter or punctuation escape: the character it stands for.
    fn simple_escape(&mut self, c: char) -> Result<char, String> {
        Ok(match c {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'f' => '\x0c',
            'v' => '\x0b',
            'a' => '\x07',
            'x' | 'u' | 'U' => self.code_point(c)?,
            c if c.is_ascii_alphanumeric() => {
                return Err(format!(
                    "it uses the escape \\{c}, which Python's re does not know"
                ));
            }
            other => other,
        })
    }

    /// A class after its `[`.
    fn class(&mut self) -> Result<String, String> {
        let negated = self.eat('^');
        let mut ranges: Vec<(u32, u32)> = Vec::new();
        let mut first = true;
        loop {
            let c = self.next().ok_or("it leaves a character class open")?;
            if c == ']' && !first {
                break;
            }
            first = false;
            let low = match c {
                '\\' => {
                    let e = self.next().ok_or("it ends in a lone backslash")?;
                    match e {
                        'w' | 'W' | 'd' | 'D' | 's' | 'S' => {
                            ranges.extend(self.class_ranges(e));
                            continue;
                        }
                        'b' => '\x08',
                        '0'..='7' => self.code_point(e)?,
                        other => self.simple_escape(other)?,
                    }
                }
                other => other,
            };
            // A range, unless the '-' is the class's last character.
            if self.peek() == Some('-') && self.pattern.get(self.at + 1).is_some_and(|&c| c != ']')
            {
                self.at += 1;
                let c = self.next().ok_or("it leaves a character class open")?;
                let high = if c == '\\' {
                    let e = self.next().ok_or("it ends in a lone backslash")?;
                    match e {
                        'b' => '\x08',
                        '0'..='7' => self.code_point(e)?,
                        'w' | 'W' | 'd' | 'D' | 's' | 'S' => {
                            return Err("it has a range ending in a class escape".into());
                        }
                        other => self.simple_escape(other)?,
                    }
                } else {
                    c
                };
                if high < low {
                    return Err(format!("it has the reversed range {low:?}-{high:?}"));
                }
                ranges.push((low as u32, high as u32));
            } else {
                ranges.push((low as u32, low as u32));
            }
        }
        Ok(class(&ranges, negated))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(pattern: &str, doc: &str) -> Vec<String> {
        let tokenizer = Tokenizer::new(pattern).unwrap();
        let mut out = Vec::new();
        tokenizer.tokens(doc, |t| out.push(t.to_owned())).unwrap();
        out
    }

    #[test]
    fn the_default_takes_runs_of_two_word_characters() {
        assert!(matches!(
            Tokenizer::new(r"(?u)\b\w\w+\b"),
            Ok(Tokenizer::Runs)
        ));
        assert_eq!(
            tokens(r"(?u)\b\w\w+\b", "A café, x y_z 42! नमस्ते ²b"),
            ["café", "y_z", "42", "नमस", "²b"]
        );
        assert_eq!(tokens(r"(?u)\b\w\w+\b", ""), Vec::<String>::new());
    }

    #[test]
    fn custom_patterns_keep_python_meaning() {
        assert_eq!(tokens(r"[a-zA-Z]{2,}", "ab1cd e fgh"), ["ab", "cd", "fgh"]);
        assert_eq!(tokens(r"(?u)\b\w+\b", "a bc d"), ["a", "bc", "d"]);
        assert_eq!(tokens(r"\S+", "a\x1cb c"), ["a", "b", "c"]);
        assert_eq!(tokens(r"(?a)\w+", "naïve"), ["na", "ve"]);
        assert_eq!(tokens(r"#(\w+)", "#tag and #more"), ["tag", "more"]);
        assert_eq!(tokens(r"[^\W\d_]+", "ab12cd_e"), ["ab", "cd", "e"]);
        assert_eq!(tokens(r"x{,2}y", "xxxy"), ["xxy"]);
        assert_eq!(tokens(r"a{b", "a{b"), ["a{b"]);
        assert_eq!(tokens(r"(?x) \d+  # digits", "a12b3"), ["12", "3"]);
        assert_eq!(tokens(r"[.]\w+|\w+", "a.bc"), ["a", ".bc"]);
    }

    #[test]
    fn boundaries_refuse_what_python_and_regex_see_apart() {
        let t = Tokenizer::new(r"\b\w+\b").unwrap();
        let err = t.tokens("नमस्ते", |_| {}).unwrap_err();
        assert_eq!(err.code, 0x94D);
        assert!(t.tokens("plain words", |_| {}).is_ok());
        // ASCII word boundaries are the regex crate's own: nothing to check.
        let t = Tokenizer::new(r"(?a)\b\w+\b").unwrap();
        assert!(t.tokens("नमस्ते", |_| {}).is_ok());
    }

    #[test]
    fn what_cannot_be_kept_is_refused_with_the_reason() {
        for (pattern, reason) in [
            (r"(\w)\1", "refers back"),
            (r"\w+(?=s)", "lookahead"),
            (r"(?<=a)b", "lookbehind"),
            (r"(?i)ab", "ignores case"),
            (r"ab$", "'$'"),
            (r"\w*", "empty string"),
            (r"(a)(b)", "2 capturing groups"),
            (r"\N{DASH}", "names a character"),
            (r"a++", "possessive"),
            (r"(?>ab)", "atomic"),
            (r"\q", "\\q"),
            (r"[z-a]", "reversed range"),
            (r"(ab", "open"),
            (r"ab)", "closes no group"),
        ] {
            let err = Tokenizer::new(pattern).unwrap_err();
            assert!(err.contains(reason), "{pattern}: {err}");
        }
    }
}
