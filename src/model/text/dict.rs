//! DictVectorizer and FeatureHasher: rows of named features (`crate::model::mapping`) in, a
//! row of numbers out, as `DictVectorizer._transform` and `FeatureHasher.transform` make it.
//!
//! - DictVectorizer: a number `v` of feature `f` is `v` at column `vocabulary_[f]`; a string
//!   `s` is 1 at `vocabulary_[f + separator + s]`; a list of strings is 1 at each
//!   `f + separator + s`. Features outside the vocabulary are left out, as scikit-learn leaves
//!   them. Each value is cast to `dtype` (`numpy.int64(2.7)` is 2) and repeated columns are
//!   summed; `sparse=False` gives dense rows.
//! - FeatureHasher: `input_type` `dict` and `pair` hash `f` for a number and `f=s` for a
//!   string (value 1), `string` hashes each string of the row (value 1); zeros are left out,
//!   columns and signs as `hashing` places them.
//!
//! Refused at load, naming the attribute: a vocabulary whose columns are not each of
//! `0..len` once, keys that are not strings, `feature_names_` that disagree with it, an
//! `n_features` outside 1..2³¹-1, an unknown `input_type`.

use rustc_hash::FxHashMap;

use super::hashing::Hasher;
use super::vectorizer::read_dtype;
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Problem, Refusal, Transformer};
use crate::model::input::{Column, ColumnKind, Dtype};
use crate::model::mapping::{FeatureValue, Mapping};
use crate::model::sparse::Csr;
use crate::model::state::{State, number_of};
use crate::model::value::{Node, Value};

/// What FeatureHasher reads each row as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum InputType {
    Dict,
    Pair,
    String,
}

/// Each name of a vocabulary with its column.
type Columns = FxHashMap<Box<str>, u32>;

#[derive(Clone, Debug)]
enum Features {
    Vocabulary {
        columns: Columns,
        names: Vec<String>,
        separator: String,
        sparse: bool,
    },
    Hashed {
        hasher: Hasher,
        input_type: InputType,
    },
}

#[derive(Clone, Debug)]
pub struct DictFeatures {
    class: SkClass,
    label: String,
    features: Features,
    dtype: Dtype,
}

/// `vocabulary_` and `feature_names_`: each name's column, every column of `0..len` once, and
/// `feature_names_[vocabulary_[f]] == f`.
fn read_vocabulary(state: &State<'_>) -> Result<(Columns, Vec<String>), LoadError> {
    let value = state.get("vocabulary_")?;
    let Some(Node::Dict(items)) = state.heap.node(value) else {
        return Err(state.malformed("vocabulary_", "is not a dict"));
    };
    let names = state.items("feature_names_")?;
    let n = items.len();
    if names.len() != n {
        return Err(state.malformed(
            "feature_names_",
            format!("has {} names but vocabulary_ has {n}", names.len()),
        ));
    }
    let names: Vec<String> = names
        .iter()
        .map(|v| state.heap.str(*v).map(str::to_owned))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            state.malformed(
                "feature_names_",
                "holds a name that is not a string (skserve takes features by name)",
            )
        })?;
    let mut seen = vec![false; n];
    let mut columns = FxHashMap::default();
    columns.reserve(n);
    for (key, index) in items {
        let name = state.heap.str(*key).ok_or_else(|| {
            state.malformed(
                "vocabulary_",
                "has a key that is not a string (skserve takes features by name)",
            )
        })?;
        let column = number_of(state.heap, *index)
            .filter(|c| *c >= 0.0 && c.fract() == 0.0 && *c < n as f64)
            .ok_or_else(|| {
                state.malformed(
                    "vocabulary_",
                    format!("maps {name:?} to a column outside 0..{n}"),
                )
            })? as usize;
        if std::mem::replace(&mut seen[column], true) {
            return Err(state.malformed(
                "vocabulary_",
                format!("maps two features to column {column}"),
            ));
        }
        columns.insert(Box::from(name), column as u32);
    }
    // Every column taken once: now each name must be the one at its column.
    for (name, &column) in &columns {
        let named = &names[column as usize];
        if **name != **named {
            return Err(state.malformed(
                "feature_names_",
                format!("names column {column} {named:?}, but vocabulary_ maps {name:?} there"),
            ));
        }
    }
    Ok((columns, names))
}

fn read_input_type(state: &State<'_>) -> Result<InputType, LoadError> {
    let value = state.get("input_type")?;
    match state.heap.str(value) {
        Some("dict") => Ok(InputType::Dict),
        Some("pair") => Ok(InputType::Pair),
        Some("string") => Ok(InputType::String),
        Some(other) => Err(state.malformed(
            "input_type",
            format!("is {other:?}, not 'dict', 'pair' or 'string'"),
        )),
        None => Err(state.malformed("input_type", "is not a string")),
    }
}

impl DictFeatures {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        let features = match state.class {
            SkClass::FeatureHasher => {
                let n_features = match state.attr("n_features") {
                    Some(Value::Int(n)) if (1..=i64::from(i32::MAX)).contains(&n) => {
                        state.count("n_features")?.expect("a count")
                    }
                    _ => {
                        return Err(
                            state.malformed("n_features", "is not an integer from 1 to 2147483647")
                        );
                    }
                };
                Features::Hashed {
                    hasher: Hasher {
                        n_features,
                        alternate_sign: state.bool_or("alternate_sign", true)?,
                    },
                    input_type: read_input_type(state)?,
                }
            }
            _ => {
                let (columns, names) = read_vocabulary(state)?;
                let separator = state.text_required("separator")?.to_owned();
                // `sort` only ordered the vocabulary when it was fitted; it must still be one.
                state.bool_or("sort", true)?;
                Features::Vocabulary {
                    columns,
                    names,
                    separator,
                    sparse: state.bool_or("sparse", true)?,
                }
            }
        };
        Ok(Self {
            class: state.class,
            label: state.label(),
            features,
            dtype: read_dtype(state, Dtype::F64)?,
        })
    }

    fn n_features_out(&self) -> usize {
        match &self.features {
            Features::Vocabulary { names, .. } => names.len(),
            Features::Hashed { hasher, .. } => hasher.n_features,
        }
    }

    /// `value` as numpy's `dtype(value)` holds it, or why it cannot; `None` is Python's `None`
    /// (`numpy.float64(None)` is NaN, `numpy.bool_(None)` False, `numpy.int64(None)` raises).
    fn cast(&self, value: Option<f64>) -> Result<f64, String> {
        let Some(value) = value else {
            return match self.dtype {
                Dtype::F64 | Dtype::F32 => Ok(f64::NAN),
                Dtype::Bool => Ok(0.0),
                Dtype::Int => Err("null does not fit the model's int64 dtype".into()),
            };
        };
        Ok(match self.dtype {
            Dtype::F64 => value,
            Dtype::F32 => value as f32 as f64,
            Dtype::Bool => f64::from(u8::from(value != 0.0)),
            Dtype::Int => {
                let v = value.trunc();
                // numpy.int64 of NaN or of a float beyond its range raises.
                if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&v) {
                    return Err(format!(
                        "{} does not fit the model's int64 dtype",
                        crate::model::python_float_or_int(value)
                    ));
                }
                v
            }
        })
    }

    /// One row's `(column, value)` pairs into `pairs`, in the order scikit-learn appends them.
    fn row(&self, mapping: &Mapping, pairs: &mut Vec<(usize, f64)>) -> Result<(), String> {
        pairs.clear();
        match &self.features {
            Features::Vocabulary {
                columns, separator, ..
            } => {
                let mut name = String::new();
                for (key, value) in mapping {
                    let mut one = |name: &str, v: Option<f64>| -> Result<(), String> {
                        if let Some(&c) = columns.get(name) {
                            let v = self
                                .cast(v)
                                .map_err(|why| format!("feature {key:?}: {why}"))?;
                            pairs.push((c as usize, v));
                        }
                        Ok(())
                    };
                    match value {
                        // `None` is looked up under the feature's own name, as a number is.
                        FeatureValue::Missing => one(key, None)?,
                        FeatureValue::Number(v) => one(key, Some(*v))?,
                        FeatureValue::Text(s) => {
                            name.clear();
                            name.extend([&**key, separator.as_str(), &**s]);
                            one(&name, Some(1.0))?;
                        }
                        FeatureValue::Texts(list) => {
                            for s in list {
                                name.clear();
                                name.extend([&**key, separator.as_str(), &**s]);
                                one(&name, Some(1.0))?;
                            }
                        }
                        FeatureValue::Unnamed(_) => {
                            return Err("a row of strings names no feature; DictVectorizer takes \
                                        each row as an object of named features"
                                .into());
                        }
                    }
                }
            }
            Features::Hashed { hasher, input_type } => {
                let mut one = |name: &str, v: f64| {
                    // NaN is hashed, as scikit-learn hashes it; only zeros are left out.
                    if v != 0.0 {
                        let (column, sign) = hasher.place(name);
                        pairs.push((column, self.dtype.round(v * sign)));
                    }
                };
                let null = |key: &str| {
                    format!(
                        "feature {key:?} is null; FeatureHasher takes no missing values \
                         (scikit-learn raises on None): leave the feature out of the row"
                    )
                };
                for (key, value) in mapping {
                    match (input_type, value) {
                        (_, FeatureValue::Missing) => return Err(null(key)),
                        (InputType::String, FeatureValue::Text(s)) => one(s, 1.0),
                        (
                            InputType::String,
                            FeatureValue::Texts(list) | FeatureValue::Unnamed(list),
                        ) => {
                            list.iter().for_each(|s| one(s, 1.0));
                        }
                        (InputType::String, FeatureValue::Number(_)) => {
                            return Err(format!(
                                "feature {key:?} is a number; input_type='string' hashes \
                                 strings only"
                            ));
                        }
                        (_, FeatureValue::Number(v)) => one(key, *v),
                        (_, FeatureValue::Text(s)) => one(&format!("{key}={s}"), 1.0),
                        (_, FeatureValue::Texts(_) | FeatureValue::Unnamed(_)) => {
                            let what = if key.is_empty() {
                                "a row of strings names no feature".to_owned()
                            } else {
                                format!("feature {key:?} is a list")
                            };
                            return Err(format!(
                                "{what}; input_type='{}' takes a number or a string per named \
                                 feature",
                                input_type.name()
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The features a request may name, each with what it takes (for V2 metadata): the
    /// vocabulary's names before the separator (a number, or strings), the strings of a
    /// FeatureHasher of strings under one input of any name, nothing for a hasher of named
    /// features (any name is hashed).
    fn features_by_name(&self) -> Vec<(String, ColumnKind)> {
        match &self.features {
            Features::Vocabulary {
                names, separator, ..
            } => {
                let mut seen = rustc_hash::FxHashSet::default();
                names
                    .iter()
                    .map(|name| match name.split_once(separator.as_str()) {
                        Some((feature, _)) if !separator.is_empty() => {
                            (feature.to_owned(), ColumnKind::Text)
                        }
                        _ => (name.clone(), ColumnKind::Number),
                    })
                    .filter(|(name, _)| seen.insert(name.clone()))
                    .collect()
            }
            Features::Hashed {
                input_type: InputType::String,
                ..
            } => vec![(crate::model::MAPPING_COLUMN.to_owned(), ColumnKind::Text)],
            Features::Hashed { .. } => Vec::new(),
        }
    }
}

impl InputType {
    fn name(self) -> &'static str {
        match self {
            Self::Dict => "dict",
            Self::Pair => "pair",
            Self::String => "string",
        }
    }
}

impl Transformer for DictFeatures {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        1
    }

    fn sources(&self) -> Vec<usize> {
        vec![0; self.n_features_out()]
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        match &self.features {
            Features::Vocabulary { names, .. } => names.clone(),
            Features::Hashed { hasher, .. } => {
                (0..hasher.n_features).map(|i| format!("x{i}")).collect()
            }
        }
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Mapping)]
    }

    fn named_features(&self) -> Option<Vec<(String, ColumnKind)>> {
        Some(self.features_by_name())
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let refusal = |row: usize, reason: String| Refusal {
            row,
            feature: 0,
            problem: Problem::NoAnswer {
                step: self.label.clone(),
                reason,
            },
        };
        let rows = match data {
            Data::Frame(frame) => match frame.columns.into_iter().next() {
                Some(Column::Mappings(rows)) => rows,
                _ => return Err(refusal(0, "it takes rows of named features".into())),
            },
            _ => return Err(refusal(0, "it takes rows of named features".into())),
        };
        let mut out = Csr::with_capacity(self.n_features_out(), rows.len(), rows.len() * 8);
        let mut pairs = Vec::new();
        for (i, mapping) in rows.iter().enumerate() {
            self.row(mapping, &mut pairs)
                .map_err(|why| refusal(i, why))?;
            Hasher::sum_row(&mut pairs, &mut out);
        }
        Ok(match &self.features {
            Features::Vocabulary { sparse: false, .. } => Data::Numbers {
                values: out.to_dense(),
                dtype: self.dtype,
            },
            _ => Data::Sparse {
                values: out,
                dtype: self.dtype,
            },
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        let mut d = serde_json::json!({
            "class": self.class(),
            "columns": input,
            "n_features_out": self.n_features_out(),
            "dtype": self.dtype,
        });
        let extra = match &self.features {
            Features::Vocabulary {
                separator, sparse, ..
            } => serde_json::json!({ "separator": separator, "sparse": sparse }),
            Features::Hashed { hasher, input_type } => serde_json::json!({
                "input_type": input_type,
                "alternate_sign": hasher.alternate_sign,
            }),
        };
        if let (Some(d), serde_json::Value::Object(extra)) = (d.as_object_mut(), extra) {
            d.extend(extra);
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectorizer(dtype: Dtype) -> DictFeatures {
        let names: Vec<String> = ["age", "city=Paris", "city=Rome", "tag=a"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        DictFeatures {
            class: SkClass::DictVectorizer,
            label: "DictVectorizer".into(),
            features: Features::Vocabulary {
                columns: names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (Box::from(n.as_str()), i as u32))
                    .collect(),
                names,
                separator: "=".into(),
                sparse: true,
            },
            dtype,
        }
    }

    fn hasher(input_type: InputType) -> DictFeatures {
        DictFeatures {
            class: SkClass::FeatureHasher,
            label: "FeatureHasher".into(),
            features: Features::Hashed {
                hasher: Hasher {
                    n_features: 16,
                    alternate_sign: true,
                },
                input_type,
            },
            dtype: Dtype::F64,
        }
    }

    fn mapping(items: &[(&str, FeatureValue)]) -> Mapping {
        items
            .iter()
            .map(|(k, v)| (std::sync::Arc::from(*k), v.clone()))
            .collect()
    }

    #[test]
    fn numbers_strings_and_lists_find_their_columns_unknown_ones_are_left_out() {
        let v = vectorizer(Dtype::Int);
        let row = mapping(&[
            ("age", FeatureValue::Number(41.9)),
            ("city", FeatureValue::Text("Rome".into())),
            (
                "tag",
                FeatureValue::Texts(vec!["a".into(), "z".into(), "a".into()]),
            ),
            ("unknown", FeatureValue::Number(3.0)),
        ]);
        let mut pairs = Vec::new();
        v.row(&row, &mut pairs).unwrap();
        assert_eq!(pairs, vec![(0, 41.0), (2, 1.0), (3, 1.0), (3, 1.0)]);
    }

    #[test]
    fn a_null_is_pythons_none_as_numpy_casts_it_and_a_bare_row_needs_names() {
        let row = mapping(&[
            ("age", FeatureValue::Missing),
            ("city", FeatureValue::Missing),
        ]);
        let mut pairs = Vec::new();
        vectorizer(Dtype::F64).row(&row, &mut pairs).unwrap();
        // "city" alone is not in the vocabulary: its None is left out, as scikit-learn does.
        assert!(
            matches!(pairs.as_slice(), [(0, v)] if v.is_nan()),
            "{pairs:?}"
        );
        vectorizer(Dtype::Bool).row(&row, &mut pairs).unwrap();
        assert_eq!(pairs, vec![(0, 0.0)]);
        let err = vectorizer(Dtype::Int).row(&row, &mut pairs).unwrap_err();
        assert!(err.contains("\"age\"") && err.contains("int64"), "{err}");
        let nan = mapping(&[("age", FeatureValue::Number(f64::NAN))]);
        let err = vectorizer(Dtype::Int).row(&nan, &mut pairs).unwrap_err();
        assert!(err.contains("nan"), "{err}");
        let bare = mapping(&[("", FeatureValue::Unnamed(vec!["a".into()]))]);
        let err = vectorizer(Dtype::F64).row(&bare, &mut pairs).unwrap_err();
        assert!(err.contains("names no feature"), "{err}");
    }

    #[test]
    fn a_hasher_refuses_a_null_and_hashes_nan_as_scikit_learn_does() {
        let mut pairs = Vec::new();
        let null = mapping(&[("city", FeatureValue::Missing)]);
        for input_type in [InputType::Dict, InputType::Pair, InputType::String] {
            let err = hasher(input_type).row(&null, &mut pairs).unwrap_err();
            assert!(err.contains("\"city\" is null"), "{err}");
        }
        let nan = mapping(&[("x", FeatureValue::Number(f64::NAN))]);
        hasher(InputType::Dict).row(&nan, &mut pairs).unwrap();
        assert!(
            matches!(pairs.as_slice(), [(_, v)] if v.is_nan()),
            "{pairs:?}"
        );
        let bare = mapping(&[("", FeatureValue::Unnamed(vec!["foo".into(), "foo".into()]))]);
        hasher(InputType::String).row(&bare, &mut pairs).unwrap();
        let foo = ((156_908_512 % 16) as usize, -1.0);
        assert_eq!(pairs, vec![foo, foo]);
        let err = hasher(InputType::Dict).row(&bare, &mut pairs).unwrap_err();
        assert!(err.contains("names no feature"), "{err}");
    }

    #[test]
    fn v2_metadata_names_the_vocabularys_features_before_the_separator() {
        assert_eq!(
            vectorizer(Dtype::F64).features_by_name(),
            vec![
                ("age".to_owned(), ColumnKind::Number),
                ("city".to_owned(), ColumnKind::Text),
                ("tag".to_owned(), ColumnKind::Text),
            ]
        );
    }

    #[test]
    fn a_hasher_of_strings_refuses_a_number_naming_the_feature() {
        let h = hasher(InputType::String);
        let mut pairs = Vec::new();
        let err = h
            .row(&mapping(&[("n", FeatureValue::Number(2.0))]), &mut pairs)
            .unwrap_err();
        assert!(err.contains("\"n\""), "{err}");
        h.row(
            &mapping(&[("", FeatureValue::Text("foo".into()))]),
            &mut pairs,
        )
        .unwrap();
        assert_eq!(pairs, vec![((156_908_512 % 16) as usize, -1.0)]);
    }
}
