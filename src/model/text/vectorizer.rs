//! CountVectorizer, TfidfVectorizer and HashingVectorizer: one column of documents in,
//! a sparse row of term counts (or weights) out. The analyzer is read from the parameters the
//! model was fitted with (`analyzer`, `token_pattern`, `lowercase`, `strip_accents`,
//! `stop_words`, `ngram_range`); the terms from `vocabulary_` (which already reflects
//! `min_df`, `max_df` and `max_features`) or, for HashingVectorizer, from the hash.
//!
//! Refused at load, by name: any callable `analyzer`, `preprocessor` or `tokenizer` (the
//! allow-list refuses the callable itself; a file naming one reaches here only as a class
//! skserve does not run), `input` other than `"content"` (the documents would name files to
//! read), and a token pattern that cannot be matched exactly (`pattern`).

use std::collections::HashSet;

use rustc_hash::FxHashMap;

use super::analyzer::{Accents, Analyzer, Units};
use super::hashing::Hasher;
use super::pattern::Tokenizer;
use super::stop_words;
use super::tfidf::{Weighting, read_norm};
use crate::model::LoadError;
use crate::model::allow::{Callable, SkClass};
use crate::model::estimator::{Data, Needs, Problem, Refusal, Transformer};
use crate::model::input::{Column, ColumnKind, Dtype};
use crate::model::sparse::Csr;
use crate::model::state::{State, number_of};
use crate::model::value::{Node, Value};

/// Where a vectorizer's features go.
#[derive(Clone, Debug)]
enum Terms {
    /// `vocabulary_`: each term's column.
    Vocabulary {
        columns: FxHashMap<Box<str>, u32>,
        /// The terms in column order (`get_feature_names_out`).
        names: Vec<String>,
    },
    Hashed(Hasher),
}

#[derive(Clone, Debug)]
pub struct Vectorizer {
    class: SkClass,
    label: String,
    analyzer: Analyzer,
    terms: Terms,
    binary: bool,
    /// The type the counts are held in (`dtype`).
    dtype: Dtype,
    /// TfidfVectorizer's weighting; HashingVectorizer's norm alone.
    weighting: Option<Weighting>,
}

/// A parameter that must be absent or `None`: a callable there is refused by name.
fn no_callable(state: &State<'_>, name: &str) -> Result<(), LoadError> {
    match state.attr(name) {
        None | Some(Value::None) => Ok(()),
        Some(value) => Err(state.unsupported(format!(
            "{name} is {}; skserve runs no code from a model file",
            crate::model::state::describe(state.heap, value)
        ))),
    }
}

/// The numpy type named by a `dtype` parameter (`numpy.float64`, `numpy.int64`, …).
pub fn read_dtype(state: &State<'_>, default: Dtype) -> Result<Dtype, LoadError> {
    let Some(value) = state.attr("dtype") else {
        return Ok(default);
    };
    let name = match state.heap.node(value) {
        Some(Node::Global(Callable::Inert(name))) => name.as_str(),
        Some(Node::Dtype(d)) => {
            use crate::model::value::Kind;
            return match (d.kind, d.size) {
                (Kind::Float, 4) => Ok(Dtype::F32),
                (Kind::Float, _) => Ok(Dtype::F64),
                (Kind::Int | Kind::UInt, _) => Ok(Dtype::Int),
                (Kind::Bool, _) => Ok(Dtype::Bool),
                _ => Err(state.unsupported("dtype is not a numeric type")),
            };
        }
        _ => return Err(state.malformed("dtype", "is not a numpy type")),
    };
    match name.strip_prefix("numpy.").unwrap_or(name) {
        "float64" | "double" | "float_" => Ok(Dtype::F64),
        "float32" | "single" => Ok(Dtype::F32),
        "bool_" => Ok(Dtype::Bool),
        t if t.starts_with("int") || t.starts_with("uint") || t == "longlong" || t == "intc" => {
            Ok(Dtype::Int)
        }
        other => Err(state.unsupported(format!(
            "dtype is numpy.{other}, which skserve does not hold"
        ))),
    }
}

/// The stop words of a word analyzer: `None`, `"english"`, or a list stored in the model.
fn read_stop_words(state: &State<'_>) -> Result<Option<HashSet<String>>, LoadError> {
    let Some(value) = state.attr("stop_words").filter(|v| *v != Value::None) else {
        return Ok(None);
    };
    if let Some(name) = state.heap.str(value) {
        return match name {
            "english" => Ok(Some(
                stop_words::ENGLISH
                    .iter()
                    .map(|w| (*w).to_owned())
                    .collect(),
            )),
            other => {
                Err(state.malformed("stop_words", format!("is {other:?}, not a built-in list")))
            }
        };
    }
    let items = match state.heap.node(value) {
        Some(Node::List(items) | Node::Tuple(items) | Node::Set(items)) => items,
        _ => {
            return Err(state.malformed("stop_words", "is neither \"english\" nor a list of words"));
        }
    };
    items
        .iter()
        .map(|v| state.heap.str(*v).map(str::to_owned))
        .collect::<Option<HashSet<String>>>()
        .map(Some)
        .ok_or_else(|| state.malformed("stop_words", "holds something other than strings"))
}

/// `ngram_range`: `(min_n, max_n)` with `1 <= min_n <= max_n`.
fn read_ngrams(state: &State<'_>) -> Result<(usize, usize), LoadError> {
    let bad = || {
        state.malformed(
            "ngram_range",
            "is not a pair (min_n, max_n) with 1 <= min_n <= max_n",
        )
    };
    let items = state.items("ngram_range")?;
    let [low, high] = items else {
        return Err(bad());
    };
    match (low, high) {
        (Value::Int(low @ 1..), Value::Int(high)) if high >= low && *high <= 1_000 => {
            Ok((*low as usize, *high as usize))
        }
        _ => Err(bad()),
    }
}

/// The analyzer the parameters describe.
fn read_analyzer(state: &State<'_>) -> Result<Analyzer, LoadError> {
    for name in ["preprocessor", "tokenizer"] {
        no_callable(state, name)?;
    }
    match state.text("input") {
        None | Some("content") => {}
        Some(other) => {
            return Err(state.unsupported(format!(
                "input is {other:?}: its documents would name files to read; skserve takes \
                 documents as text (input=\"content\")"
            )));
        }
    }
    let accents = match state.attr("strip_accents") {
        None | Some(Value::None) | Some(Value::Bool(false)) => None,
        Some(v) => match state.heap.str(v) {
            Some("ascii") => Some(Accents::Ascii),
            Some("unicode") => Some(Accents::Unicode),
            Some(other) => return Err(state.malformed("strip_accents", format!("is {other:?}"))),
            None => return Err(no_callable(state, "strip_accents").expect_err("not None")),
        },
    };
    let analyzer = match state.attr("analyzer") {
        None => "word",
        Some(v) => match state.heap.str(v) {
            Some(name) => name,
            None => return Err(no_callable(state, "analyzer").expect_err("not None")),
        },
    };
    let units = match analyzer {
        "word" => {
            let pattern = state.text("token_pattern").ok_or_else(|| {
                state.malformed(
                    "token_pattern",
                    "is missing for a word analyzer without a tokenizer",
                )
            })?;
            let tokenizer = Tokenizer::new(pattern).map_err(|why| {
                state.unsupported(format!(
                    "token_pattern {pattern:?} cannot be matched exactly as Python matches it: {why}"
                ))
            })?;
            Units::Words {
                tokenizer,
                stop_words: read_stop_words(state)?,
            }
        }
        "char" => Units::Chars,
        "char_wb" => Units::CharsInWords,
        other => {
            return Err(state.malformed(
                "analyzer",
                format!("is {other:?}, not word, char or char_wb"),
            ));
        }
    };
    Ok(Analyzer {
        units,
        lowercase: state.bool_or("lowercase", true)?,
        accents,
        ngrams: read_ngrams(state)?,
    })
}

/// `vocabulary_`: each term's column, every column from 0 to its size taken once.
fn read_vocabulary(state: &State<'_>) -> Result<Terms, LoadError> {
    let value = state.get("vocabulary_")?;
    let Some(Node::Dict(items)) = state.heap.node(value) else {
        return Err(state.malformed("vocabulary_", "is not a dict"));
    };
    if items.is_empty() {
        return Err(state.malformed("vocabulary_", "is empty"));
    }
    let n = items.len();
    let mut names: Vec<Option<String>> = vec![None; n];
    let mut columns = FxHashMap::default();
    columns.reserve(n);
    for (key, index) in items {
        let term = state
            .heap
            .str(*key)
            .ok_or_else(|| state.malformed("vocabulary_", "has a key that is not a string"))?;
        let column = number_of(state.heap, *index)
            .filter(|c| *c >= 0.0 && c.fract() == 0.0 && *c < n as f64)
            .ok_or_else(|| {
                state.malformed(
                    "vocabulary_",
                    format!("maps {term:?} to a column outside 0..{n}"),
                )
            })? as usize;
        if names[column].replace(term.to_owned()).is_some() {
            return Err(
                state.malformed("vocabulary_", format!("maps two terms to column {column}"))
            );
        }
        columns.insert(Box::from(term), column as u32);
    }
    let names = names
        .into_iter()
        .map(|n| n.expect("every column once"))
        .collect();
    Ok(Terms::Vocabulary { columns, names })
}

impl Vectorizer {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        let analyzer = read_analyzer(state)?;
        let class = state.class;
        let (terms, dtype, weighting) = match class {
            SkClass::HashingVectorizer => {
                let n_features = state
                    .count("n_features")?
                    .filter(|n| (1..=i32::MAX as usize).contains(n))
                    .ok_or_else(|| {
                        state.malformed("n_features", "is not a positive 32-bit count")
                    })?;
                let hasher = Hasher {
                    n_features,
                    alternate_sign: state.bool_or("alternate_sign", true)?,
                };
                let weighting = Weighting {
                    sublinear: false,
                    idf: None,
                    norm: read_norm(state)?,
                };
                (
                    Terms::Hashed(hasher),
                    read_dtype(state, Dtype::F64)?,
                    Some(weighting),
                )
            }
            SkClass::TfidfVectorizer => {
                let terms = read_vocabulary(state)?;
                let n = terms.len();
                let inner = state.get("_tfidf")?;
                let inner = State::of(state.heap, inner, &state.path.join("_tfidf"))
                    .ok()
                    .filter(|s| s.class == SkClass::TfidfTransformer)
                    .ok_or_else(|| state.malformed("_tfidf", "is not a TfidfTransformer"))?;
                let weighting = Weighting::read(&inner, Some(n))?;
                (terms, read_dtype(state, Dtype::F64)?, Some(weighting))
            }
            _ => (
                read_vocabulary(state)?,
                read_dtype(state, Dtype::Int)?,
                None,
            ),
        };
        Ok(Self {
            class,
            label: state.label(),
            analyzer,
            terms,
            binary: state.bool_or("binary", false)?,
            dtype,
            weighting,
        })
    }

    /// The matrix of one column of documents.
    fn vectorize(&self, docs: &[Option<std::sync::Arc<str>>]) -> Result<(Csr, Dtype), Refusal> {
        let n_cols = self.terms.len();
        let mut out = Csr::with_capacity(n_cols, docs.len(), docs.len() * 16);
        let mut columns: Vec<u32> = Vec::new();
        let mut pairs: Vec<(usize, f64)> = Vec::new();
        for (row, doc) in docs.iter().enumerate() {
            let doc = doc.as_deref().ok_or_else(|| Refusal {
                row,
                feature: 0,
                problem: Problem::Missing {
                    step: self.label.clone(),
                },
            })?;
            let inexact = |e: super::pattern::Inexact| Refusal {
                row,
                feature: 0,
                problem: Problem::Inexact {
                    step: self.label.clone(),
                    reason: e.to_string(),
                },
            };
            match &self.terms {
                Terms::Vocabulary {
                    columns: vocabulary,
                    ..
                } => {
                    columns.clear();
                    self.analyzer
                        .features(doc, |f| {
                            if let Some(&c) = vocabulary.get(f) {
                                columns.push(c);
                            }
                        })
                        .map_err(inexact)?;
                    columns.sort_unstable();
                    let mut i = 0;
                    while i < columns.len() {
                        let c = columns[i];
                        let start = i;
                        while i < columns.len() && columns[i] == c {
                            i += 1;
                        }
                        out.push(c as usize, (i - start) as f64);
                    }
                    out.end_row();
                }
                Terms::Hashed(hasher) => {
                    pairs.clear();
                    self.analyzer
                        .features(doc, |f| {
                            let (column, sign) = hasher.place(f);
                            pairs.push((column, sign));
                        })
                        .map_err(inexact)?;
                    Hasher::sum_row(&mut pairs, &mut out);
                }
            }
        }
        if self.binary {
            out.values_mut().fill(1.0);
        }
        Ok((out, self.dtype))
    }
}

impl Terms {
    fn len(&self) -> usize {
        match self {
            Self::Vocabulary { names, .. } => names.len(),
            Self::Hashed(hasher) => hasher.n_features,
        }
    }
}

impl Transformer for Vectorizer {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        1
    }

    fn sources(&self) -> Vec<usize> {
        vec![0; self.terms.len()]
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        match &self.terms {
            Terms::Vocabulary { names, .. } => names.clone(),
            Terms::Hashed(hasher) => (0..hasher.n_features).map(|i| format!("x{i}")).collect(),
        }
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Text)]
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let docs = match data {
            Data::Frame(frame) => match frame.columns.into_iter().next() {
                Some(Column::Texts(docs)) => docs,
                Some(Column::Mappings(_)) => {
                    return Err(Refusal {
                        row: 0,
                        feature: 0,
                        problem: Problem::Missing {
                            step: format!("{} (it takes documents, not mappings)", self.label),
                        },
                    });
                }
                Some(Column::Numbers { values, .. }) => {
                    // A column of nothing but missing values arrives as numbers.
                    return Err(Refusal {
                        row: values.iter().position(|v| !v.is_nan()).unwrap_or(0),
                        feature: 0,
                        problem: Problem::Missing {
                            step: self.label.clone(),
                        },
                    });
                }
                None => Vec::new(),
            },
            other => {
                return Err(Refusal {
                    row: 0,
                    feature: 0,
                    problem: Problem::Missing {
                        step: format!(
                            "{} (it takes documents, and was given {} columns of numbers)",
                            self.label,
                            other.n_columns()
                        ),
                    },
                });
            }
        };
        let (mut values, dtype) = self.vectorize(&docs)?;
        let dtype = match &self.weighting {
            Some(weighting) => {
                // TfidfTransformer reads counts as floats; HashingVectorizer's already are.
                let dtype = dtype.as_float();
                weighting.apply(&mut values, dtype);
                dtype
            }
            None => dtype,
        };
        Ok(Data::Sparse { values, dtype })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        let units = match &self.analyzer.units {
            Units::Words { stop_words, .. } => serde_json::json!({
                "analyzer": "word",
                "stop_words": stop_words.as_ref().map(HashSet::len),
            }),
            Units::Chars => serde_json::json!({ "analyzer": "char" }),
            Units::CharsInWords => serde_json::json!({ "analyzer": "char_wb" }),
        };
        serde_json::json!({
            "class": self.class(),
            "columns": input,
            "tokens": units,
            "lowercase": self.analyzer.lowercase,
            "strip_accents": self.analyzer.accents,
            "ngram_range": [self.analyzer.ngrams.0, self.analyzer.ngrams.1],
            "n_features_out": self.terms.len(),
            "binary": self.binary,
            "dtype": self.dtype,
            "use_idf": self.weighting.as_ref().map(|w| w.idf.is_some()),
            "norm": self.weighting.as_ref().and_then(|w| w.norm),
        })
    }
}
