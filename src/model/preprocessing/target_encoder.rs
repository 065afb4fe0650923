//! TargetEncoder (scikit-learn 1.3+): each value replaced by its category's fitted encoding
//! (`encodings_`), as `transform` computes it: a value's index among `categories_` (strings or
//! numbers, a missing category where training saw one), and `target_mean_` for a category
//! training did not see. A binary or continuous target gives one column per feature; a
//! multiclass target one per feature and class, in `classes_`' order.
//!
//! What must not live here: `fit_transform`'s cross fitting (a training-time answer).

use ndarray::Array2;

use super::categories::Categories;
use super::encoders::read_categories;
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::fitted;
use crate::model::input::{ColumnKind, Dtype};
use crate::model::state::{State, describe, numbers_of};

#[derive(Clone, Debug, PartialEq)]
pub struct TargetEncoder {
    categories: Vec<Categories>,
    /// Per feature, per class (one for a binary or continuous target): each category's
    /// encoding.
    encodings: Vec<Vec<Vec<f64>>>,
    /// Per class: what an unseen category becomes.
    target_mean: Vec<f64>,
    /// The classes' names of a multiclass target (for the output names).
    classes: Option<Vec<String>>,
}

impl TargetEncoder {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        if !state.has("encodings_") {
            return Err(state.malformed(
                "encodings_",
                "is missing: the step was saved before it was fitted",
            ));
        }
        let categories = read_categories(state)?;
        let n = fitted::features(state, categories.len(), "categories_")?;
        let target_type = fitted::one_of(
            state,
            "target_type_",
            &["binary", "multiclass", "continuous"],
        )?;
        let (classes, n_classes) = if target_type == "multiclass" {
            let items = state.array("classes_")?;
            let names: Vec<String> = match numbers_of(state.heap, state.get("classes_")?) {
                Some((values, _)) => values
                    .iter()
                    .map(|v| crate::model::python_float(*v))
                    .collect(),
                None => crate::model::state::strings_of(state.heap, items)
                    .ok_or_else(|| state.malformed("classes_", "is neither numbers nor strings"))?,
            };
            if names.len() < 3 {
                return Err(state.malformed(
                    "classes_",
                    format!("has {} classes, but the target is multiclass", names.len()),
                ));
            }
            let n_classes = names.len();
            (Some(names), n_classes)
        } else {
            (None, 1)
        };
        let target_mean = match state.number("target_mean_") {
            Ok(Some(v)) if n_classes == 1 => vec![v],
            _ => fitted::vector(state, "target_mean_", Some(n_classes))?.to_vec(),
        };
        fitted::finite(state, "target_mean_", &target_mean)?;
        let list = state.items("encodings_")?;
        if list.len() != n * n_classes {
            return Err(state.malformed(
                "encodings_",
                format!(
                    "holds {} encodings for {n} features of {n_classes} classes",
                    list.len()
                ),
            ));
        }
        let mut encodings = vec![Vec::with_capacity(n_classes); n];
        for (e, value) in list.iter().enumerate() {
            let feature = e / n_classes;
            let what = format!("encodings_[{e}]");
            let Some((values, shape)) = numbers_of(state.heap, *value) else {
                return Err(state.malformed(
                    &what,
                    format!("is {}, not a numeric array", describe(state.heap, *value)),
                ));
            };
            let want = categories[feature].len();
            if shape.len() != 1 || values.len() != want {
                return Err(state.malformed(
                    &what,
                    format!("has shape {shape:?}, but feature {feature} has {want} categories"),
                ));
            }
            fitted::finite(state, &what, &values)?;
            encodings[feature].push(values);
        }
        Ok(Self {
            categories,
            encodings,
            target_mean,
            classes,
        })
    }

    fn n_classes(&self) -> usize {
        self.target_mean.len()
    }
}

impl Transformer for TargetEncoder {
    fn class(&self) -> &'static str {
        SkClass::TargetEncoder.name()
    }

    fn n_features_in(&self) -> usize {
        self.categories.len()
    }

    fn sources(&self) -> Vec<usize> {
        (0..self.categories.len())
            .flat_map(|j| std::iter::repeat_n(j, self.n_classes()))
            .collect()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        match &self.classes {
            Some(classes) => input
                .iter()
                .flat_map(|name| classes.iter().map(move |c| format!("{name}_{c}")))
                .collect(),
            None => input.to_vec(),
        }
    }

    fn needs(&self) -> Vec<Needs> {
        self.categories
            .iter()
            .map(|c| {
                Needs::Kind(if c.is_text() {
                    ColumnKind::Text
                } else {
                    ColumnKind::Number
                })
            })
            .collect()
    }

    fn categories(&self, feature: usize) -> Option<Vec<String>> {
        Some(self.categories.get(feature)?.names())
    }

    fn fitted_missing(&self, feature: usize) -> Option<bool> {
        Some(self.categories.get(feature)?.missing.is_some())
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let n_rows = data.n_rows();
        let k = self.n_classes();
        let mut out = Array2::zeros((n_rows, self.categories.len() * k));
        for (j, categories) in self.categories.iter().enumerate() {
            for row in 0..n_rows {
                let index = categories.find(data.cell(row, j));
                for c in 0..k {
                    out[[row, j * k + c]] = match index {
                        Some(i) => self.encodings[j][c][i],
                        None => self.target_mean[c],
                    };
                }
            }
        }
        Ok(Data::Numbers {
            values: out,
            dtype: Dtype::F64,
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        let columns: Vec<serde_json::Value> = self
            .categories
            .iter()
            .enumerate()
            .map(|(i, c)| serde_json::json!({"column": input[i], "categories": c.names()}))
            .collect();
        serde_json::json!({
            "class": self.class(),
            "columns": columns,
            "classes": self.classes,
        })
    }
}
