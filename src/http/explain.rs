//! Explanations of linear predictions: each feature's contribution `coef × value` to the
//! decision that chose the class, largest magnitude first, with the intercept. For a binary
//! model that is its single decision (positive means the second class); for a multiclass
//! model, the predicted class's row.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use crate::model::Rows;
use crate::registry::LoadedModel;

/// One row's explanation.
#[derive(Debug, Serialize)]
pub struct Explanation<'a> {
    /// The predicted label.
    pub predicted: Value,
    /// The class whose decision function is explained (binary: always the second class).
    pub decision_class: Value,
    /// `intercept + Σ contributions`, the value the prediction was made from.
    pub decision: f64,
    pub intercept: f64,
    /// Every feature, largest `|contribution|` first.
    pub contributions: Vec<Contribution<'a>>,
}

#[derive(Debug, Serialize)]
pub struct Contribution<'a> {
    /// The feature's name, or `x[i]` when the model has no names.
    pub feature: Cow<'a, str>,
    pub value: f64,
    pub weight: f64,
    pub contribution: f64,
}

/// Explains each row given the class index predicted for it.
pub fn explain<'a>(
    loaded: &'a LoadedModel,
    rows: Rows<'_>,
    predicted: &[usize],
) -> Vec<Explanation<'a>> {
    let model = loaded.model();
    let linear = model.linear();
    let classes = model.classes();
    let mut decision = vec![0.0; linear.n_outputs];
    rows.iter()
        .zip(predicted)
        .map(|(row, &class)| {
            let (output, decision_class) = if linear.n_outputs == 1 {
                (0, 1)
            } else {
                (class, class)
            };
            linear.decision_row(row, &mut decision);
            let weights = &linear.coef[output * linear.n_features..][..linear.n_features];
            let mut contributions: Vec<Contribution<'a>> = row
                .iter()
                .zip(weights)
                .enumerate()
                .map(|(i, (&value, &weight))| Contribution {
                    feature: loaded.feature_name(i),
                    value,
                    weight,
                    contribution: weight * value,
                })
                .collect();
            contributions.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
            Explanation {
                predicted: classes.label(class).to_json(),
                decision_class: classes.label(decision_class).to_json(),
                decision: decision[output],
                intercept: linear.intercept[output],
                contributions,
            }
        })
        .collect()
}
