//! An XGBoost model as a [`Predictor`]: margins summed as XGBoost's CPU predictor sums them
//! (float32, from the intercept, each output's trees in order), turned into predictions by the
//! objective, and shaped as the scikit-learn wrapper shapes them (`XGBClassifier.predict`
//! takes `> 0.5` of one probability or the first largest of several, `predict_proba` puts
//! `1 - p` beside `p`; regressors and rankers give the values).
//!
//! A row reaches the trees as XGBoost reads it: each value rounded to float32, and a value
//! equal to the model's `missing` (or NaN) made missing, so that it follows its node's
//! default direction.
//!
//! What must not live here: reading documents or pickles (`booster`, the room).

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::booster::{Booster, Engine, FeatureType};
use super::objective::{Link, Task, first_largest};
use crate::model::allow::SkClass;
use crate::model::classes::Classes;
use crate::model::estimator::{Attribution, Method, Prediction, Predictor, Target};
use crate::model::tree::shap;

/// An XGBoost model, a scikit-learn wrapper's or a file's.
#[derive(Debug)]
pub struct Xgb {
    /// The wrapper class, or XGBoost's `Booster` for a file.
    pub class: SkClass,
    pub booster: Booster,
    /// The value that stands for a missing one (NaN always does too).
    pub missing: f32,
    /// `0..n_classes` for a classifier; `None` for a regressor or a ranker.
    pub classes: Option<Classes>,
}

impl Xgb {
    fn k(&self) -> usize {
        self.booster.k
    }

    /// The rows as XGBoost reads them: float32, missing values NaN.
    fn prepared(&self, x: ArrayView2<'_, f64>) -> Vec<f64> {
        let missing = self.missing;
        x.iter()
            .map(|&v| {
                let v = v as f32;
                if v == missing { f64::NAN } else { f64::from(v) }
            })
            .collect()
    }

    /// Margins, `rows × k`, row-major.
    pub fn margins(&self, x: ArrayView2<'_, f64>) -> Vec<f32> {
        let (k, n) = (self.k(), self.booster.n_features);
        let rows = self.prepared(x);
        let mut out: Vec<f32> = Vec::with_capacity(x.nrows() * k);
        for _ in 0..x.nrows() {
            out.extend_from_slice(&self.booster.base_margin);
        }
        match &self.booster.engine {
            Engine::Trees {
                forest,
                leaf_values,
                groups,
            } => forest.for_each_row(&rows, n, |r, leaves| {
                let o = &mut out[r * k..(r + 1) * k];
                match groups {
                    Some(groups) => {
                        for (&g, &at) in groups.iter().zip(leaves) {
                            o[g as usize] += leaf_values[at];
                        }
                    }
                    None => {
                        for &at in leaves {
                            for (o, &v) in o.iter_mut().zip(&leaf_values[at..at + k]) {
                                *o += v;
                            }
                        }
                    }
                }
            }),
            Engine::Linear { weights } => {
                for (row, o) in rows.chunks_exact(n).zip(out.chunks_exact_mut(k)) {
                    for (g, o) in o.iter_mut().enumerate() {
                        let mut sum = weights[n * k + g] + *o;
                        for (f, &v) in row.iter().enumerate() {
                            if !v.is_nan() {
                                sum += v as f32 * weights[f * k + g];
                            }
                        }
                        *o = sum;
                    }
                }
            }
        }
        out
    }

    /// Predictions before the wrapper shapes them (`Booster.predict`), `rows × k`.
    pub fn transformed(&self, x: ArrayView2<'_, f64>) -> Vec<f32> {
        let mut values = self.margins(x);
        for row in values.chunks_exact_mut(self.k()) {
            self.booster.objective.transform(row);
        }
        values
    }

    fn is_classifier(&self) -> bool {
        self.classes.is_some()
    }

    fn labels(&self, values: &[f32]) -> Vec<usize> {
        let k = self.k();
        values
            .chunks_exact(k)
            .map(|row| match self.booster.objective.link {
                Link::Softmax => row[0] as usize,
                _ if k > 1 => first_largest_or_nan(row),
                _ => usize::from(row[0] > 0.5),
            })
            .collect()
    }

    fn probabilities(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let k = self.k();
        let rows = x.nrows();
        if self.booster.objective.link == Link::Softmax {
            let mut margins = self.margins(x);
            margins.chunks_exact_mut(k).for_each(scipy_softmax);
            return to_array(&margins, rows, k);
        }
        let values = self.transformed(x);
        if k > 1 {
            return to_array(&values, rows, k);
        }
        let pairs: Vec<f32> = values.iter().flat_map(|&p| [1.0 - p, p]).collect();
        to_array(&pairs, rows, 2)
    }
}

/// numpy's `argmax` of float32 values: the first largest (a NaN, should one arise, wins).
fn first_largest_or_nan(row: &[f32]) -> usize {
    row.iter()
        .position(|v| v.is_nan())
        .unwrap_or_else(|| first_largest(row))
}

/// scipy's `softmax` of one float32 row (what `XGBClassifier.predict_proba` computes for
/// `multi:softmax`): `exp(x - max)` over its sum, in float32.
fn scipy_softmax(row: &mut [f32]) {
    let largest = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    row.iter_mut().for_each(|v| *v = (*v - largest).exp());
    let sum: f32 = row.iter().sum();
    row.iter_mut().for_each(|v| *v /= sum);
}

fn to_array(values: &[f32], rows: usize, width: usize) -> Array2<f64> {
    Array2::from_shape_vec(
        (rows, width),
        values.iter().map(|&v| f64::from(v)).collect(),
    )
    .expect("rows × width")
}

impl Predictor for Xgb {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.booster.n_features
    }

    fn target(&self) -> Target<'_> {
        match &self.classes {
            Some(classes) => Target::Classes(classes),
            None => Target::Values {
                n_outputs: self.k(),
                one_d: self.k() == 1,
            },
        }
    }

    fn methods(&self) -> Vec<Method> {
        if self.is_classifier() {
            vec![Method::Predict, Method::PredictProba]
        } else {
            vec![Method::Predict]
        }
    }

    fn accepts_missing(&self) -> bool {
        true
    }

    fn float32_input(&self) -> bool {
        true
    }

    fn platform(&self) -> &'static str {
        "xgboost"
    }

    fn feature_names(&self) -> Option<Vec<String>> {
        self.booster.feature_names.clone()
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        let values = self.transformed(x);
        if self.is_classifier() {
            return Prediction::Classes(self.labels(&values));
        }
        Prediction::Values(to_array(&values, x.nrows(), self.k()))
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        self.is_classifier().then(|| self.probabilities(x))
    }

    fn has_predict_proba(&self) -> bool {
        self.is_classifier()
    }

    fn attribution(
        &self,
        row: ArrayView1<'_, f64>,
        predicted: Option<usize>,
    ) -> Option<Attribution> {
        let k = self.k();
        let (column, explained_class) = match (&self.classes, k) {
            (Some(_), 1) => (0, Some(1)),
            (Some(_), _) => (predicted?, predicted),
            (None, 1) => (0, None),
            (None, _) => return None,
        };
        let one = row.to_vec();
        let view = ArrayView2::from_shape((1, one.len()), &one).ok()?;
        let x = self.prepared(view);
        let output = f64::from(self.margins(view)[column]);
        let base = self.booster.base_margin[column];
        match &self.booster.engine {
            Engine::Trees {
                forest,
                groups: Some(groups),
                leaf_values,
            } => {
                if !shap::explainable(forest) {
                    return None;
                }
                // In float, as XGBoost's `pred_contribs` computes it.
                let explained = shap::explain_f32(forest, &x, self.booster.n_features, |leaf| {
                    if groups[forest.tree_of(leaf)] as usize == column {
                        leaf_values[forest.value_offset(leaf)]
                    } else {
                        0.0
                    }
                });
                Some(Attribution {
                    explained_class,
                    base: f64::from(explained.expected as f32 + base),
                    contributions: explained.phi,
                    weights: None,
                    output,
                })
            }
            Engine::Trees { groups: None, .. } => None,
            Engine::Linear { weights } => {
                let n = self.booster.n_features;
                let contributions = x
                    .iter()
                    .enumerate()
                    .map(|(f, &v)| {
                        if v.is_nan() {
                            0.0
                        } else {
                            f64::from(v as f32 * weights[f * k + column])
                        }
                    })
                    .collect();
                Some(Attribution {
                    explained_class,
                    base: f64::from(weights[n * k + column] + self.booster.base_margin[column]),
                    contributions,
                    weights: Some((0..n).map(|f| f64::from(weights[f * k + column])).collect()),
                    output,
                })
            }
        }
    }

    fn describe(&self) -> serde_json::Value {
        let booster = &self.booster;
        let categorical: Vec<usize> = (0..booster.n_features)
            .filter(|&f| booster.feature_types[f] == FeatureType::Categorical)
            .collect();
        let mut d = serde_json::json!({
            "class": self.class.name(),
            "library": "xgboost",
            "saved_by": format!("xgboost {}.{}", booster.version.0, booster.version.1),
            "objective": booster.objective.name,
            "n_features_in": booster.n_features,
            "outputs": booster.k,
            "iterations": booster.iterations.0,
            "iterations_saved": booster.iterations.1,
            "missing": if self.missing.is_nan() { serde_json::Value::from("NaN") } else { self.missing.into() },
            "categorical_features": categorical,
            "base_margin": booster.base_margin,
        });
        match &booster.engine {
            Engine::Trees { forest, .. } => {
                d["booster"] = "gbtree".into();
                d["trees"] = forest.n_trees().into();
                d["nodes"] = forest.n_nodes().into();
                d["leaves"] = forest.n_leaves().into();
                d["max_depth"] = forest.max_depth().into();
                d["categorical_splits"] = forest.category_sets.len().into();
                d["features_used"] = forest.features_used().into();
            }
            Engine::Linear { .. } => d["booster"] = "gblinear".into(),
        }
        if let Some(classes) = &self.classes {
            d["classes"] = classes.to_json();
        }
        if let Some(names) = &booster.feature_names {
            d["feature_names"] = names.clone().into();
        }
        d
    }
}

/// What the objective's task makes of a file's model: a classifier's classes, or none.
pub fn classes_for(task: Task, k: usize) -> Option<Classes> {
    match task {
        Task::Binary => Some(Classes::Int(vec![0, 1])),
        Task::Multiclass => Some(Classes::Int((0..k as i64).collect())),
        Task::Regression | Task::Ranking => None,
    }
}
