//! Label propagation (LabelPropagation, LabelSpreading): a row's class distribution is the
//! fitted points' `label_distributions_` weighted by the kernel between them and the row,
//! normalised to sum to 1 (`predict_proba`); `predict` its first largest class. The `rbf`
//! kernel is `exp(−γ ‖x − y‖²)` over `X_`; the `knn` kernel sums the distributions of the row's
//! `n_neighbors` nearest points as the pickled NearestNeighbors (`nn_fit`) finds them.
//! A row the rbf kernel gives no weight to (all weights underflow) is NaN, as in scikit-learn.
//!
//! What must not live here: the neighbour search (`neighbors::search`).

use ndarray::{Array2, ArrayView2};

use super::LoadError;
use super::allow::SkClass;
use super::classes::{Classes, read_classes};
use super::estimator::{Method, Prediction, Predictor, Target};
use super::fitted;
use super::neighbors::search::Search;
use super::pairwise::Kernel;
use super::state::State;

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    matches!(class, SkClass::LabelPropagation | SkClass::LabelSpreading)
}

#[derive(Clone, Debug, PartialEq)]
enum Weights {
    Rbf { kernel: Kernel, x: Array2<f64> },
    Nearest { search: Search, k: usize },
}

#[derive(Clone, Debug, PartialEq)]
pub struct LabelPropagation {
    class: SkClass,
    classes: Classes,
    n_features: usize,
    distributions: Array2<f64>,
    weights: Weights,
}

pub fn read(state: &State<'_>) -> Result<Box<dyn Predictor>, LoadError> {
    let classes = read_classes(state, "classes_")?;
    let k = classes.len();
    if k == 0 {
        return Err(state.malformed("classes_", "is empty"));
    }
    let x = fitted::matrix(state, "X_", None, None)?;
    let (n, d) = x.dim();
    if n == 0 {
        return Err(state.malformed("X_", "holds no points"));
    }
    fitted::features(state, d, "X_")?;
    let distributions = fitted::matrix(state, "label_distributions_", Some(n), Some(k))?;
    if let Some(((i, j), v)) = distributions.indexed_iter().find(|(_, v)| **v < 0.0) {
        return Err(state.malformed(
            &format!("label_distributions_[{i}, {j}]"),
            format!("is {v}, not a share of a class"),
        ));
    }
    let weights = match fitted::one_of(state, "kernel", &["rbf", "knn"])? {
        "rbf" => {
            let gamma = fitted::scalar(state, "gamma")?;
            if gamma < 0.0 {
                return Err(
                    state.malformed("gamma", format!("is {gamma}, not a non-negative number"))
                );
            }
            Weights::Rbf {
                kernel: Kernel::Rbf { gamma },
                x,
            }
        }
        _ => {
            let path = state.path.join("nn_fit");
            let nn = State::of(state.heap, state.get("nn_fit")?, &path)?;
            if nn.class != SkClass::NearestNeighbors {
                return Err(state.malformed(
                    "nn_fit",
                    format!("is {}, not a NearestNeighbors", nn.class.name()),
                ));
            }
            let search = Search::read(&nn)?;
            if *search.fit() != x {
                return Err(state.malformed("nn_fit", "searches other points than X_"));
            }
            let k = match nn.count("n_neighbors")? {
                Some(k) if (1..=n).contains(&k) => k,
                other => {
                    return Err(nn.malformed(
                        "n_neighbors",
                        format!("is {other:?}, not a count of the {n} fitted points"),
                    ));
                }
            };
            Weights::Nearest { search, k }
        }
    };
    Ok(Box::new(LabelPropagation {
        class: state.class,
        classes,
        n_features: d,
        distributions,
        weights,
    }))
}

impl LabelPropagation {
    fn proba(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut out = match &self.weights {
            Weights::Rbf { kernel, x: fit } => {
                kernel.matrix(fit.view(), x).t().dot(&self.distributions)
            }
            Weights::Nearest { search, k } => {
                let mut out = Array2::zeros((x.nrows(), self.classes.len()));
                for (neighbours, mut row) in search.kneighbors(x, *k).iter().zip(out.rows_mut()) {
                    for &(_, i) in neighbours {
                        row += &self.distributions.row(i);
                    }
                }
                out
            }
        };
        for mut row in out.rows_mut() {
            let sum: f64 = row.iter().sum();
            row.mapv_inplace(|v| v / sum);
        }
        out
    }

    fn labels(proba: &Array2<f64>) -> Prediction {
        Prediction::Classes(
            proba
                .rows()
                .into_iter()
                .map(|row| {
                    // numpy's argmax: the first largest, or the first NaN.
                    let mut best = 0;
                    for (i, &v) in row.iter().enumerate() {
                        if row[best].is_nan() {
                            break;
                        }
                        if v > row[best] || v.is_nan() {
                            best = i;
                        }
                    }
                    best
                })
                .collect(),
        )
    }
}

impl Predictor for LabelPropagation {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        Target::Classes(&self.classes)
    }

    fn methods(&self) -> Vec<Method> {
        vec![Method::Predict, Method::PredictProba]
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        Self::labels(&self.proba(x))
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        Some(self.proba(x))
    }

    fn has_predict_proba(&self) -> bool {
        true
    }

    fn predict_with_proba(&self, x: ArrayView2<'_, f64>) -> (Prediction, Option<Array2<f64>>) {
        let proba = self.proba(x);
        (Self::labels(&proba), Some(proba))
    }

    fn unexplained_because(&self) -> Option<String> {
        Some("label propagation weighs the fitted points' labels by their kernel with the row; no feature has a part of its own".into())
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": self.class.name(),
            "n_features_in": self.n_features,
            "kernel": match self.weights { Weights::Rbf { .. } => "rbf", Weights::Nearest { .. } => "knn" },
            "n_samples_fit": self.distributions.nrows(),
            "classes": self.classes.to_json(),
        })
    }
}
