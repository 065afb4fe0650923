//! A LightGBM model as a [`Predictor`]: raw scores summed in double as `GBDT::PredictRaw`
//! sums them (from 0, iteration by iteration, one tree per raw score), averaged in random
//! forest mode, converted by the objective, and shaped as the scikit-learn wrapper shapes them
//! (`LGBMClassifier.predict_proba` puts `1 - p` beside `p` for two classes, `predict` takes
//! the first largest probability and its label).
//!
//! What must not live here: reading the text or pickles (`booster`, the room).

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::booster::{Booster, Lane, Read, ZERO_THRESHOLD};
use super::objective::Task;
use crate::model::allow::SkClass;
use crate::model::classes::Classes;
use crate::model::estimator::{Attribution, Method, Prediction, Predictor, Target};
use crate::model::tree::math::argmax;
use crate::model::tree::shap;

#[derive(Debug)]
pub struct Lgb {
    /// The wrapper class (a file is served as the wrapper its objective belongs to).
    pub class: SkClass,
    pub booster: Booster,
    /// The classifier's labels (`_classes`), or `None`.
    pub classes: Option<Classes>,
}

/// A value as LightGBM's dense rows hold it: within 1e-35 of zero, zero.
#[inline]
fn zeroed(v: f64) -> f64 {
    if v.abs() <= ZERO_THRESHOLD { 0.0 } else { v }
}

#[inline]
fn read(lane: &Lane, row: &[f64]) -> f64 {
    let v = zeroed(row[lane.feature]);
    match lane.read {
        Read::AsIs => v,
        Read::MissingAsZero if v.is_nan() => 0.0,
        Read::ZeroAsMissing if v == 0.0 => f64::NAN,
        _ => v,
    }
}

impl Lgb {
    /// The rows as the trees read them, one value per lane.
    fn lanes(&self, x: ArrayView2<'_, f64>) -> Vec<f64> {
        let lanes = &self.booster.lanes;
        let mut out = Vec::with_capacity(x.nrows() * lanes.len());
        for row in x.rows() {
            match row.to_slice() {
                Some(row) => out.extend(lanes.iter().map(|lane| read(lane, row))),
                None => {
                    let row = row.to_vec();
                    out.extend(lanes.iter().map(|lane| read(lane, &row)));
                }
            }
        }
        out
    }

    /// Raw scores, `rows × k`, row-major.
    pub fn raw(&self, x: ArrayView2<'_, f64>) -> Vec<f64> {
        let booster = &self.booster;
        let k = booster.k;
        let width = booster.lanes.len();
        let lanes = self.lanes(x);
        let mut out = vec![0.0; x.nrows() * k];
        let values = booster.forest.values();
        let linear = &booster.linear;
        // The booster keeps linear leaves only when some leaf is linear.
        let has_linear = !linear.is_empty();
        let rows: Vec<f64> = if has_linear {
            x.iter().map(|&v| zeroed(v)).collect()
        } else {
            Vec::new()
        };
        let n = booster.n_features;
        booster.forest.for_each_row(&lanes, width, |r, leaves| {
            let o = &mut out[r * k..(r + 1) * k];
            if !has_linear {
                // Iteration by iteration, one tree per raw score, as below.
                for iteration in leaves.chunks(k) {
                    for (o, &at) in o.iter_mut().zip(iteration) {
                        *o += values[at];
                    }
                }
                return;
            }
            for (t, &at) in leaves.iter().enumerate() {
                let value = match linear.get(at).and_then(Option::as_ref) {
                    Some(leaf) => {
                        let row = &rows[r * n..(r + 1) * n];
                        let mut sum = leaf.constant;
                        let mut missing = false;
                        for (&f, &c) in leaf.features.iter().zip(&leaf.coefficients) {
                            if row[f].is_nan() {
                                missing = true;
                                break;
                            }
                            sum += c * row[f];
                        }
                        if missing { values[at] } else { sum }
                    }
                    _ => values[at],
                };
                o[t % k] += value;
            }
        });
        if booster.average_output {
            let iterations = booster.iterations.0 as f64;
            out.iter_mut().for_each(|v| *v /= iterations);
        }
        out
    }

    /// Predictions before the wrapper shapes them (`Booster.predict`), `rows × k`.
    pub fn converted(&self, x: ArrayView2<'_, f64>) -> Vec<f64> {
        let mut values = self.raw(x);
        for row in values.chunks_exact_mut(self.booster.k) {
            self.booster.objective.convert(row);
        }
        values
    }

    fn probabilities(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let k = self.booster.k;
        let values = self.converted(x);
        if k > 1 {
            return Array2::from_shape_vec((x.nrows(), k), values).expect("rows × k");
        }
        let pairs = values.iter().flat_map(|&p| [1.0 - p, p]).collect();
        Array2::from_shape_vec((x.nrows(), 2), pairs).expect("rows × 2")
    }
}

impl Predictor for Lgb {
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
                n_outputs: 1,
                one_d: true,
            },
        }
    }

    fn methods(&self) -> Vec<Method> {
        match self.classes {
            Some(_) => vec![Method::Predict, Method::PredictProba],
            None => vec![Method::Predict],
        }
    }

    fn accepts_missing(&self) -> bool {
        true
    }

    fn platform(&self) -> &'static str {
        "lightgbm"
    }

    fn feature_names(&self) -> Option<Vec<String>> {
        let names = &self.booster.feature_names;
        // Without a DataFrame, LightGBM names the columns itself.
        let own = names
            .iter()
            .enumerate()
            .all(|(i, n)| *n == format!("Column_{i}"));
        (!own).then(|| names.clone())
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        match &self.classes {
            Some(_) => {
                let proba = self.probabilities(x);
                Prediction::Classes(
                    proba
                        .rows()
                        .into_iter()
                        .map(|r| argmax(r.as_slice().expect("a row")))
                        .collect(),
                )
            }
            None => {
                let values = self.converted(x);
                Prediction::Values(
                    Array2::from_shape_vec((x.nrows(), 1), values).expect("rows × 1"),
                )
            }
        }
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        self.classes.as_ref().map(|_| self.probabilities(x))
    }

    fn has_predict_proba(&self) -> bool {
        self.classes.is_some()
    }

    fn attribution(
        &self,
        row: ArrayView1<'_, f64>,
        predicted: Option<usize>,
    ) -> Option<Attribution> {
        let booster = &self.booster;
        let k = booster.k;
        if booster.linear.iter().any(Option::is_some) || !shap::explainable(&booster.forest) {
            return None;
        }
        let (column, explained_class) = match (&self.classes, k) {
            (Some(_), 1) => (0, Some(1)),
            (Some(_), _) => (predicted?, predicted),
            (None, _) => (0, None),
        };
        let one = row.to_vec();
        let view = ArrayView2::from_shape((1, one.len()), &one).ok()?;
        let lanes = self.lanes(view);
        let forest = &booster.forest;
        let scale = if booster.average_output {
            booster.iterations.0 as f64
        } else {
            1.0
        };
        let explained = shap::explain(forest, &lanes, booster.lanes.len(), |leaf| {
            if forest.tree_of(leaf) % k == column {
                forest.leaf_value(leaf) / scale
            } else {
                0.0
            }
        });
        let mut contributions = vec![0.0; booster.n_features];
        for (lane, phi) in booster.lanes.iter().zip(&explained.phi) {
            contributions[lane.feature] += phi;
        }
        Some(Attribution {
            explained_class,
            base: explained.expected,
            contributions,
            weights: None,
            output: self.raw(view)[column],
        })
    }

    fn describe(&self) -> serde_json::Value {
        let booster = &self.booster;
        let categorical: Vec<usize> = (0..booster.n_features)
            .filter(|&f| booster.categorical[f])
            .collect();
        let mut d = serde_json::json!({
            "class": self.class.name(),
            "library": "lightgbm",
            "model_version": booster.version,
            "objective": booster.objective.text,
            "n_features_in": booster.n_features,
            "trees_per_iteration": booster.k,
            "iterations": booster.iterations.0,
            "iterations_saved": booster.iterations.1,
            "trees": booster.forest.n_trees(),
            "nodes": booster.forest.n_nodes(),
            "leaves": booster.forest.n_leaves(),
            "max_depth": booster.forest.max_depth(),
            "features_used": booster.lanes.iter().map(|l| l.feature).collect::<std::collections::BTreeSet<_>>(),
            "categorical_features": categorical,
            "categorical_splits": booster.forest.category_sets.len(),
            "linear_tree": booster.linear.iter().any(Option::is_some),
            "average_output": booster.average_output,
            "feature_names": booster.feature_names,
        });
        if let Some(classes) = &self.classes {
            d["classes"] = classes.to_json();
        }
        d
    }
}

/// A file's classes, from its objective: `0..n_classes` for a classifier's.
pub fn classes_for(task: Task, n_classes: usize) -> Option<Classes> {
    match task {
        Task::Binary => Some(Classes::Int(vec![0, 1])),
        Task::Multiclass => Some(Classes::Int((0..n_classes as i64).collect())),
        Task::Regression | Task::Ranking => None,
    }
}
