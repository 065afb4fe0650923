//! DecisionTree, ExtraTree, RandomForest and ExtraTrees, classifiers and regressors, as
//! scikit-learn predicts with them: the input cast to float32 and compared with `<=` to each
//! split's float64 threshold, missing values sent where the node says (for the versions and
//! estimators that accept them), and a forest's trees added up in estimator order before one
//! division by their number.
//!
//! A classifier's leaf holds weighted class counts until scikit-learn 1.4 and class fractions
//! from then on; before 1.4 `predict_proba` divided each tree's row by its sum, from 1.4 it
//! returns the row as it is. A single tree's `predict` takes the first largest of its raw row;
//! a forest's, of the averaged probabilities. A classifier of several outputs does all of this
//! output by output: its leaves hold each output's classes side by side (the padding of
//! scikit-learn's `value` to the most classes any output has dropped at load).

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::math::{argmax, f32_rows, pairwise_sum};
use super::nodes::Forest;
use super::shap;
use crate::model::allow::SkClass;
use crate::model::budget::{Budget, TooLarge};
use crate::model::classes::Classes;
use crate::model::estimator::{Attribution, Method, Prediction, Predictor, Target};

/// What the leaves hold and how they become predictions.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// The classes of each output (one, or several for a multi-output classifier); a leaf
    /// holds each output's class values side by side.
    Classes {
        outputs: Vec<Classes>,
        /// Each tree's row is divided by its sum, output by output (scikit-learn before 1.4).
        normalise: bool,
    },
    Values {
        n_outputs: usize,
        one_d: bool,
    },
}

/// A fitted tree or forest of trees.
#[derive(Clone, Debug)]
pub struct TreeModel {
    pub class: SkClass,
    pub forest: Forest,
    pub n_features: usize,
    pub output: Output,
    /// A single estimator (DecisionTree, ExtraTree) rather than a forest of them.
    pub single: bool,
    pub accepts_missing: bool,
    /// Where scikit-learn divided each tree's row by its sum (before 1.4): every leaf's values
    /// so divided, at the leaf's [`Forest::value_offset`]. Divided once here rather than at
    /// every prediction: the same division of the same numbers, so the same result. `None`
    /// when the leaves are added as they are (no copy of them).
    divided: Option<Vec<f64>>,
}

impl TreeModel {
    /// The model of `forest`, its masks and divided leaves charged to `budget`.
    pub fn new(
        class: SkClass,
        mut forest: Forest,
        n_features: usize,
        output: Output,
        single: bool,
        accepts_missing: bool,
        budget: &Budget,
    ) -> Result<Self, TooLarge> {
        forest.finish(budget)?;
        let divided = match &output {
            Output::Classes {
                outputs,
                normalise: true,
            } => {
                budget.charge_items(forest.values().len(), 8, || {
                    "the leaves' values divided by their sums".to_owned()
                })?;
                let mut divided = vec![0.0; forest.values().len()];
                let width = forest.width().max(1);
                for (values, out) in forest
                    .values()
                    .chunks_exact(width)
                    .zip(divided.chunks_exact_mut(width))
                {
                    let mut at = 0;
                    for classes in outputs {
                        let span = at..at + classes.len();
                        normalised(&values[span.clone()], &mut out[span]);
                        at += classes.len();
                    }
                }
                Some(divided)
            }
            _ => None,
        };
        Ok(Self {
            class,
            forest,
            n_features,
            output,
            single,
            accepts_missing,
            divided,
        })
    }

    /// What each leaf adds to the sum over trees, at the leaf's [`Forest::value_offset`].
    fn added(&self) -> &[f64] {
        self.divided.as_deref().unwrap_or(self.forest.values())
    }

    fn width(&self) -> usize {
        self.forest.width()
    }

    /// Accumulates, for every row, the trees' outputs in estimator order, then divides by the
    /// number of trees (forests) — `n_rows × width`, row-major.
    fn accumulate(&self, x: ArrayView2<'_, f64>) -> Vec<f64> {
        let rows = f32_rows(x);
        let n = self.n_features;
        let width = self.width();
        let mut out = vec![0.0; x.nrows() * width];
        let added = self.added();
        self.forest.for_each_row(&rows, n, |r, leaves| {
            let out = &mut out[r * width..(r + 1) * width];
            for &at in leaves {
                out.iter_mut()
                    .zip(&added[at..][..width])
                    .for_each(|(a, v)| *a += v);
            }
        });
        if !self.single {
            let n_trees = self.forest.n_trees() as f64;
            out.iter_mut().for_each(|v| *v /= n_trees);
        }
        out
    }

    /// Raw leaf rows of a single tree (what its `predict` takes the argmax of).
    fn raw_rows(&self, x: ArrayView2<'_, f64>) -> Vec<f64> {
        let rows = f32_rows(x);
        let n = self.n_features;
        let mut out = Vec::with_capacity(x.nrows() * self.width());
        for row in rows.chunks_exact(n.max(1)).take(x.nrows()) {
            out.extend_from_slice(self.forest.leaf_values(self.forest.leaf(0, row)));
        }
        out
    }

    /// Each row's class index for each output (row-major, `n_rows × n_outputs`): the first
    /// largest of a single tree's raw leaf row, or of a forest's mean probabilities.
    fn class_indices(&self, x: ArrayView2<'_, f64>) -> Vec<usize> {
        let scores = if self.single {
            self.raw_rows(x)
        } else {
            self.accumulate(x)
        };
        self.labels_of(&scores)
    }

    /// The first largest of each output's classes in each row of `scores`.
    fn labels_of(&self, scores: &[f64]) -> Vec<usize> {
        let Output::Classes { outputs, .. } = &self.output else {
            return Vec::new();
        };
        let mut labels = Vec::with_capacity(scores.len() / self.width() * outputs.len());
        for row in scores.chunks_exact(self.width()) {
            let mut at = 0;
            for classes in outputs {
                labels.push(argmax(&row[at..at + classes.len()]));
                at += classes.len();
            }
        }
        labels
    }

    /// Class indices as the prediction of one output or of several.
    fn classes_prediction(&self, n_rows: usize, labels: Vec<usize>) -> Prediction {
        match &self.output {
            Output::Classes { outputs, .. } if outputs.len() > 1 => Prediction::MultiClasses(
                Array2::from_shape_vec((n_rows, outputs.len()), labels).expect("rows × outputs"),
            ),
            _ => Prediction::Classes(labels),
        }
    }
}

/// A tree's class row divided by its sum, as `proba /= normalizer` did before 1.4 (a row of
/// zeros stays zeros).
fn normalised(values: &[f64], out: &mut [f64]) {
    let sum = pairwise_sum(values);
    let sum = if sum == 0.0 { 1.0 } else { sum };
    out.iter_mut().zip(values).for_each(|(o, v)| *o = v / sum);
}

impl Predictor for TreeModel {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        match &self.output {
            Output::Classes { outputs, .. } => match outputs.as_slice() {
                [classes] => Target::Classes(classes),
                outputs => Target::MultiClasses(outputs),
            },
            Output::Values { n_outputs, one_d } => Target::Values {
                n_outputs: *n_outputs,
                one_d: *one_d,
            },
        }
    }

    fn methods(&self) -> Vec<Method> {
        match self.output {
            Output::Classes { .. } => vec![Method::Predict, Method::PredictProba],
            Output::Values { .. } => vec![Method::Predict],
        }
    }

    fn accepts_missing(&self) -> bool {
        self.accepts_missing
    }

    fn float32_input(&self) -> bool {
        true
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        match &self.output {
            Output::Classes { .. } => self.classes_prediction(x.nrows(), self.class_indices(x)),
            Output::Values { n_outputs, .. } => {
                let values = self.accumulate(x);
                Prediction::Values(
                    Array2::from_shape_vec((x.nrows(), *n_outputs), values)
                        .expect("rows × outputs"),
                )
            }
        }
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        if !matches!(self.output, Output::Classes { .. }) {
            return None;
        }
        let values = self.accumulate(x);
        Some(Array2::from_shape_vec((x.nrows(), self.width()), values).expect("rows × classes"))
    }

    fn decision_function(&self, _x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        None
    }

    fn has_predict_proba(&self) -> bool {
        matches!(self.output, Output::Classes { .. })
    }

    fn predict_with_proba(&self, x: ArrayView2<'_, f64>) -> (Prediction, Option<Array2<f64>>) {
        // A single tree predicts from its raw leaf rows, a forest from the mean it answers
        // `predict_proba` with: only a forest's two answers share one pass.
        if !matches!(self.output, Output::Classes { .. }) {
            return (self.predict(x), None);
        }
        if self.single {
            return (self.predict(x), self.predict_proba(x));
        }
        let proba = self.accumulate(x);
        let labels = self.classes_prediction(x.nrows(), self.labels_of(&proba));
        let proba =
            Array2::from_shape_vec((x.nrows(), self.width()), proba).expect("rows × classes");
        (labels, Some(proba))
    }

    fn attribution(
        &self,
        row: ArrayView1<'_, f64>,
        predicted: Option<usize>,
    ) -> Option<Attribution> {
        let (column, explained_class) = match &self.output {
            // The probability of the second class for a binary classifier, of the
            // predicted one otherwise.
            // One explanation explains one output.
            Output::Classes { outputs, .. } if outputs.len() > 1 => return None,
            Output::Classes { outputs, .. } if outputs[0].len() == 2 => (1, Some(1)),
            Output::Classes { .. } => (predicted?, predicted),
            Output::Values { n_outputs: 1, .. } => (0, None),
            Output::Values { .. } => return None,
        };
        let x: Vec<f64> = row.iter().map(|&v| v as f32 as f64).collect();
        let scale = if self.single {
            1.0
        } else {
            1.0 / self.forest.n_trees() as f64
        };
        let explained = shap::explain(&self.forest, &x, self.n_features, |leaf| {
            self.added()[self.forest.value_offset(leaf) + column] * scale
        });
        let output = {
            let one = ArrayView2::from_shape((1, row.len()), row.as_slice()?).ok()?;
            self.accumulate(one)[column]
        };
        Some(Attribution {
            explained_class,
            base: explained.expected,
            contributions: explained.phi,
            weights: None,
            output,
        })
    }

    fn describe(&self) -> serde_json::Value {
        let mut d = serde_json::json!({
            "class": self.class.name(),
            "n_features_in": self.n_features,
            "trees": self.forest.n_trees(),
            "nodes": self.forest.n_nodes(),
            "leaves": self.forest.n_leaves(),
            "max_depth": self.forest.max_depth(),
            "features_used": self.forest.features_used(),
            "missing_values": self.accepts_missing,
        });
        match &self.output {
            Output::Classes { outputs, normalise } => {
                d["classes"] = match outputs.as_slice() {
                    [classes] => classes.to_json(),
                    outputs => outputs.iter().map(Classes::to_json).collect(),
                };
                if outputs.len() > 1 {
                    d["n_outputs"] = outputs.len().into();
                }
                d["leaf_values"] = if *normalise {
                    "weighted class counts".into()
                } else {
                    "class fractions".into()
                };
            }
            Output::Values { n_outputs, .. } => d["n_outputs"] = (*n_outputs).into(),
        }
        d
    }
}
