//! A vectorizer's analyzer, as `_VectorizerMixin.build_analyzer` builds one: the document
//! lower-cased (`str.lower`) and stripped of accents (`strip_accents_ascii`: NFKD, then only
//! ASCII; `strip_accents_unicode`: NFKD without combining characters, for a document that is
//! not ASCII already), then cut into word n-grams (tokens from the pattern, stop words taken
//! out before the n-grams are formed, joined by a space), character n-grams (whitespace runs
//! made one space) or character n-grams within words (`char_wb`, each word padded with a
//! space either side).
//!
//! Features are handed to a callback as they are made, so that a document costs no more than
//! its preprocessed copy and one buffer for the n-grams.

use std::borrow::Cow;
use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::canonical_combining_class;

use super::chars::is_space;
use super::pattern::{Inexact, Tokenizer};

/// `strip_accents`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Accents {
    Ascii,
    Unicode,
}

/// What the analyzer cuts a document into.
#[derive(Clone, Debug)]
pub enum Units {
    Words {
        tokenizer: Tokenizer,
        stop_words: Option<HashSet<String>>,
    },
    Chars,
    /// `char_wb`.
    CharsInWords,
}

#[derive(Clone, Debug)]
pub struct Analyzer {
    pub units: Units,
    pub lowercase: bool,
    pub accents: Option<Accents>,
    /// `ngram_range`, `1 <= min <= max`.
    pub ngrams: (usize, usize),
}

impl Analyzer {
    /// The document as the preprocessor leaves it.
    pub fn preprocess<'d>(&self, doc: &'d str) -> Cow<'d, str> {
        let mut doc = Cow::Borrowed(doc);
        if self.lowercase && doc.chars().any(|c| c.to_lowercase().ne(std::iter::once(c))) {
            doc = Cow::Owned(doc.to_lowercase());
        }
        match self.accents {
            None => doc,
            Some(_) if doc.is_ascii() => doc,
            Some(Accents::Ascii) => Cow::Owned(doc.nfkd().filter(char::is_ascii).collect()),
            Some(Accents::Unicode) => Cow::Owned(
                doc.nfkd()
                    .filter(|&c| canonical_combining_class(c) == 0)
                    .collect(),
            ),
        }
    }

    /// Calls `feature` with each feature of `doc`, in scikit-learn's order.
    pub fn features(&self, doc: &str, mut feature: impl FnMut(&str)) -> Result<(), Inexact> {
        let doc = self.preprocess(doc);
        let (min_n, max_n) = self.ngrams;
        match &self.units {
            Units::Words {
                tokenizer,
                stop_words,
            } => {
                let mut tokens: Vec<&str> = Vec::new();
                tokenizer.tokens(&doc, |t| {
                    if stop_words.as_ref().is_none_or(|s| !s.contains(t)) {
                        tokens.push(t);
                    }
                })?;
                if min_n == 1 {
                    tokens.iter().for_each(|t| feature(t));
                }
                let mut gram = String::new();
                for n in min_n.max(2)..=max_n.min(tokens.len()) {
                    for window in tokens.windows(n) {
                        gram.clear();
                        for (k, t) in window.iter().enumerate() {
                            if k > 0 {
                                gram.push(' ');
                            }
                            gram.push_str(t);
                        }
                        feature(&gram);
                    }
                }
            }
            Units::Chars => {
                let text = one_space(&doc);
                // Each character's byte offset, and the end.
                let bounds: Vec<usize> = text
                    .char_indices()
                    .map(|(at, _)| at)
                    .chain([text.len()])
                    .collect();
                let len = bounds.len() - 1;
                for n in min_n..=max_n.min(len) {
                    for i in 0..=len - n {
                        feature(&text[bounds[i]..bounds[i + n]]);
                    }
                }
            }
            Units::CharsInWords => {
                let text = one_space(&doc);
                let mut word = String::new();
                for w in text.split(is_space).filter(|w| !w.is_empty()) {
                    word.clear();
                    word.push(' ');
                    word.push_str(w);
                    word.push(' ');
                    let bounds: Vec<usize> = word
                        .char_indices()
                        .map(|(at, _)| at)
                        .chain([word.len()])
                        .collect();
                    let len = bounds.len() - 1;
                    for n in min_n..=max_n {
                        // `w[offset:offset + n]`, which is all of it when n exceeds its length.
                        let gram =
                            |offset: usize| &word[bounds[offset]..bounds[(offset + n).min(len)]];
                        let mut offset = 0;
                        feature(gram(offset));
                        while offset + n < len {
                            offset += 1;
                            feature(gram(offset));
                        }
                        if offset == 0 {
                            // A short word counts once.
                            break;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// `re.sub(r"\s\s+", " ", text)`: runs of two or more whitespace characters made one space.
fn one_space(text: &str) -> Cow<'_, str> {
    let mut chars = text.chars().peekable();
    let mut runs = false;
    while let Some(c) = chars.next() {
        if is_space(c) && chars.peek().is_some_and(|&d| is_space(d)) {
            runs = true;
            break;
        }
    }
    if !runs {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if is_space(c) && chars.peek().is_some_and(|&d| is_space(d)) {
            while chars.peek().is_some_and(|&d| is_space(d)) {
                chars.next();
            }
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer(units: Units, ngrams: (usize, usize)) -> Analyzer {
        Analyzer {
            units,
            lowercase: true,
            accents: None,
            ngrams,
        }
    }

    fn features(a: &Analyzer, doc: &str) -> Vec<String> {
        let mut out = Vec::new();
        a.features(doc, |f| out.push(f.to_owned())).unwrap();
        out
    }

    fn words(stop: &[&str]) -> Units {
        Units::Words {
            tokenizer: Tokenizer::Runs,
            stop_words: (!stop.is_empty()).then(|| stop.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn word_ngrams_after_stop_words() {
        let a = analyzer(words(&["the"]), (1, 2));
        assert_eq!(
            features(&a, "The cat saw THE dog"),
            ["cat", "saw", "dog", "cat saw", "saw dog"]
        );
        let a = analyzer(words(&[]), (2, 3));
        assert_eq!(features(&a, "a bb cc dd"), ["bb cc", "cc dd", "bb cc dd"]);
        assert_eq!(features(&a, "bb"), Vec::<String>::new());
    }

    #[test]
    fn char_ngrams_collapse_whitespace_runs() {
        let a = analyzer(Units::Chars, (2, 3));
        assert_eq!(features(&a, "ab  c"), ["ab", "b ", " c", "ab ", "b c"]);
        assert_eq!(one_space("a\n b\tc"), "a b\tc");
    }

    #[test]
    fn char_wb_pads_words_and_counts_short_ones_once() {
        let a = analyzer(Units::CharsInWords, (2, 3));
        assert_eq!(
            features(&a, "ab c"),
            [" a", "ab", "b ", " ab", "ab ", " c", "c ", " c "]
        );
        let a = analyzer(Units::CharsInWords, (5, 6));
        assert_eq!(features(&a, "ab"), [" ab "]);
    }

    #[test]
    fn accents_are_stripped_as_scikit_learn_strips_them() {
        let mut a = analyzer(Units::Chars, (1, 1));
        a.accents = Some(Accents::Unicode);
        assert_eq!(a.preprocess("Crème ﬁ Ǆ"), "creme fi dz");
        a.accents = Some(Accents::Ascii);
        assert_eq!(a.preprocess("Crème → ß"), "creme  ");
        a.lowercase = false;
        assert_eq!(a.preprocess("ÉTÉ"), "ETE");
    }
}
