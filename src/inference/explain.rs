//! Explanations of predictions: each feature's contribution to the value the estimator
//! computed (`coef × value` for a linear model, its TreeSHAP value for trees), in the space it
//! sees (after encoding and scaling), largest magnitude first, with the base value; and, for a model with named columns, the same summed
//! by the client's column (`OPERA=Grupo LATAM: +0.36`, the sum of that column's one-hot
//! terms). For a binary classifier the value is its single decision (positive means the second
//! class), for a multiclass one the predicted class's, for a regressor its linear predictor
//! (before a GLM's link).

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use super::InferError;
use crate::model::{Cell, Features, Frame, Prediction, python_float_or_int};
use crate::registry::LoadedModel;

/// One row's explanation.
#[derive(Debug, Serialize)]
pub struct Explanation<'a> {
    /// The predicted label or value.
    pub predicted: Value,
    /// The class whose decision function is explained (binary: always the second class).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_class: Option<Value>,
    /// `intercept + Σ contributions`, the value the prediction was made from.
    pub decision: f64,
    pub intercept: f64,
    /// Every feature the estimator sees, largest `|contribution|` first.
    pub contributions: Vec<Contribution<'a>>,
    /// The contributions summed by the client's column, largest first (named models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<ColumnContribution>>,
}

#[derive(Debug, Serialize)]
pub struct Contribution<'a> {
    /// The feature's name, or `x[i]` when the model has none.
    pub feature: Cow<'a, str>,
    pub value: f64,
    pub weight: f64,
    pub contribution: f64,
}

/// A client's column and what its value added.
#[derive(Debug, Serialize)]
pub struct ColumnContribution {
    pub column: String,
    /// The value the client sent (`null` when missing).
    pub value: Value,
    pub contribution: f64,
    /// `OPERA=Grupo LATAM: +0.36`.
    pub summary: String,
}

/// Explains each row given what was predicted for it; `frame` is the client's named input,
/// when it sent one. A model that cannot be explained exactly is refused, never approximated.
pub fn explain<'a>(
    loaded: &'a LoadedModel,
    features: &Features<'_>,
    predicted: Option<&Prediction>,
    frame: Option<&Frame>,
) -> Result<Vec<Explanation<'a>>, InferError> {
    let model = loaded.model();
    let unexplained = || {
        let because = model
            .unexplained_because()
            .map(|why| format!(": {why}"))
            .unwrap_or_default();
        InferError::Unprocessable(format!(
            "this model ({}) cannot be explained feature by feature{because}",
            model.chain()
        ))
    };
    let predicted = predicted.ok_or_else(unexplained)?;
    let classes = model.classes();
    (0..features.len())
        .map(|row| {
            let class = match predicted {
                Prediction::Classes(c) => Some(c[row]),
                // Explained output by output it is not: the model says so below.
                Prediction::MultiClasses(_) | Prediction::Values(_) => None,
            };
            let explained = model
                .explain(features, row, class)
                .ok_or_else(unexplained)?;
            let a = &explained.attribution;
            let weights = a.weights.clone().unwrap_or_default();
            let mut contributions: Vec<Contribution<'a>> = a
                .contributions
                .iter()
                .enumerate()
                .map(|(i, &contribution)| Contribution {
                    feature: loaded.feature_name(i),
                    value: explained.values[i],
                    weight: weights.get(i).copied().unwrap_or(f64::NAN),
                    contribution,
                })
                .collect();
            let columns = frame
                .map(|frame| by_column(loaded, frame, row, &explained.sources, &contributions));
            contributions.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
            let predicted = match (predicted, classes) {
                (Prediction::Classes(c), Some(classes)) => classes.label(c[row]).to_json(),
                (Prediction::Values(v), _) => v[[row, 0]].into(),
                _ => Value::Null,
            };
            Ok(Explanation {
                predicted,
                decision_class: a
                    .explained_class
                    .zip(classes)
                    .map(|(c, classes)| classes.label(c).to_json()),
                decision: a.output,
                intercept: a.base,
                contributions,
                columns,
            })
        })
        .collect()
}

/// The contributions summed by the input column each feature comes from.
fn by_column(
    loaded: &LoadedModel,
    frame: &Frame,
    row: usize,
    sources: &[usize],
    contributions: &[Contribution<'_>],
) -> Vec<ColumnContribution> {
    let input = &loaded.model().input().columns;
    let mut sums = vec![None::<f64>; input.len()];
    for (c, &source) in contributions.iter().zip(sources) {
        *sums[source].get_or_insert(0.0) += c.contribution;
    }
    let mut out: Vec<ColumnContribution> = sums
        .into_iter()
        .enumerate()
        .filter_map(|(i, sum)| {
            let sum = sum?;
            let cell = frame.columns[i].cell(row);
            let (value, shown) = match cell {
                Cell::Missing => (Value::Null, "missing".to_owned()),
                Cell::Number(v) => (v.into(), python_float_or_int(v)),
                Cell::Text(s) => (s.into(), s.to_owned()),
            };
            let name = &input[i].name;
            Some(ColumnContribution {
                summary: format!("{name}={shown}: {sum:+.2}"),
                column: name.clone(),
                value,
                contribution: sum,
            })
        })
        .collect();
    out.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
    out
}
