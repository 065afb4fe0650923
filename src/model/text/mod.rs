//! Text: the vectorizers of `sklearn.feature_extraction` (CountVectorizer, TfidfVectorizer,
//! HashingVectorizer, DictVectorizer, FeatureHasher) and TfidfTransformer, read from their
//! fitted state. Each vectorizer
//! takes one column of documents and gives sparse rows; tokens are cut exactly as
//! scikit-learn cuts them, or the model (or, for a token pattern with word boundaries, the
//! document) is refused with the reason.
//!
//! # Layout
//! - `unicode`: Python's character classes as ranges (generated); `chars`: lookups in them.
//! - `pattern`: `token_pattern` as Python's `re.findall` matches it.
//! - `analyzer`: preprocessing, tokens, stop words and n-grams.
//! - `stop_words`: scikit-learn's English list.
//! - `hashing`: MurmurHash3 and the hashing trick.
//! - `tfidf`: TF-IDF weighting, and TfidfTransformer.
//! - `vectorizer`: CountVectorizer, TfidfVectorizer, HashingVectorizer.
//! - `dict`: DictVectorizer and FeatureHasher, on rows of named features.

pub mod analyzer;
pub mod chars;
pub mod dict;
pub mod hashing;
pub mod pattern;
pub mod stop_words;
pub mod tfidf;
pub mod unicode;
pub mod vectorizer;

use super::LoadError;
use super::allow::SkClass;
use super::estimator::Transformer;
use super::state::State;

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    use SkClass::*;
    matches!(
        class,
        CountVectorizer
            | TfidfVectorizer
            | HashingVectorizer
            | TfidfTransformer
            | DictVectorizer
            | FeatureHasher
    )
}

/// Reads the transformer whose state is `state`; `width` is the number of columns it is
/// given, where the caller knows it.
pub fn read(state: &State<'_>, width: Option<usize>) -> Result<Box<dyn Transformer>, LoadError> {
    Ok(match state.class {
        SkClass::TfidfTransformer => Box::new(tfidf::TfidfTransformer::read(state, width)?),
        SkClass::DictVectorizer | SkClass::FeatureHasher => {
            Box::new(dict::DictFeatures::read(state)?)
        }
        _ => Box::new(vectorizer::Vectorizer::read(state)?),
    })
}
