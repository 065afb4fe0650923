//! KNeighborsClassifier/Regressor and RadiusNeighborsClassifier/Regressor: each row's
//! neighbours (the k nearest, or those within the radius) vote or average, weighted uniformly
//! or by `1 / distance` as `_get_weights` weighs them. Classifiers sum each class's weights in
//! the neighbours' order (`predict_proba`) and predict the first largest; a radius classifier
//! gives a row without neighbours to `outlier_label_`, and without one refuses the row as
//! scikit-learn raises. A radius regressor answers NaN for such a row, as scikit-learn does.

use ndarray::{Array2, ArrayView2};

use super::search::{Neighbours, Search, distance_weights};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::classes::{Classes, read_classes};
use crate::model::estimator::{Method, Prediction, Predictor, Problem, Refusal, Target};
use crate::model::fitted;
use crate::model::state::{State, number_of};
use crate::model::value::{Elements, Value};

/// Whom a row asks.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Query {
    Nearest(usize),
    Within(f64),
}

/// What the neighbours hold.
#[derive(Clone, Debug, PartialEq)]
enum Answers {
    /// Each fitted point's class index; the class (index) a radius classifier gives a row
    /// without neighbours, `None` when it has none.
    Classes {
        classes: Classes,
        y: Vec<usize>,
        outlier: Option<usize>,
    },
    /// Fitted points × outputs; `one_d` when `_y` is 1-D.
    Values { y: Array2<f64>, one_d: bool },
}

#[derive(Clone, Debug, PartialEq)]
pub struct NeighboursPredictor {
    class: SkClass,
    search: Search,
    query: Query,
    distance_weighted: bool,
    answers: Answers,
}

pub fn read(state: &State<'_>) -> Result<NeighboursPredictor, LoadError> {
    let search = Search::read(state)?;
    let n = search.n_fit();
    fitted::features(state, search.n_features(), "_fit_X")?;
    let radius_kind = matches!(
        state.class,
        SkClass::RadiusNeighborsClassifier | SkClass::RadiusNeighborsRegressor
    );
    let query = if radius_kind {
        let r = fitted::scalar(state, "radius")?;
        if r < 0.0 {
            return Err(state.malformed("radius", format!("is {r}, not a distance")));
        }
        Query::Within(r)
    } else {
        Query::Nearest(neighbours_count(state, "n_neighbors", n)?)
    };
    let distance_weighted = match state.attr("weights").and_then(|v| state.heap.str(v)) {
        Some("uniform") => false,
        Some("distance") => true,
        Some(other) => {
            return Err(
                state.malformed("weights", format!("is {other:?}, not uniform or distance"))
            );
        }
        None => {
            return Err(state.unsupported(
                "weights is not uniform or distance (a callable is code, which skserve never runs)",
            ));
        }
    };
    let classifier = matches!(
        state.class,
        SkClass::KNeighborsClassifier | SkClass::RadiusNeighborsClassifier
    );
    let answers = if classifier {
        if state.bool_or("outputs_2d_", false)? {
            return Err(state.unsupported(
                "outputs_2d_ is true: a neighbours classifier of several outputs is not served",
            ));
        }
        let classes = read_classes(state, "classes_")?;
        let y = fitted::indices(state, "_y", Some(n), classes.len())?;
        let outlier = if radius_kind {
            outlier_label(state, &classes)?
        } else {
            None
        };
        Answers::Classes {
            classes,
            y,
            outlier,
        }
    } else {
        let (values, shape) = fitted::array(state, "_y", &[Some(n)])
            .or_else(|_| fitted::array(state, "_y", &[Some(n), None]))?;
        let outputs = shape.get(1).copied().unwrap_or(1);
        Answers::Values {
            y: Array2::from_shape_vec((n, outputs), values).expect("the shape was checked"),
            one_d: shape.len() == 1,
        }
    };
    Ok(NeighboursPredictor {
        class: state.class,
        search,
        query,
        distance_weighted,
        answers,
    })
}

/// A neighbour count in `1..=n`.
pub fn neighbours_count(state: &State<'_>, name: &str, n: usize) -> Result<usize, LoadError> {
    match state.count(name)? {
        Some(k) if (1..=n).contains(&k) => Ok(k),
        Some(k) => Err(state.malformed(name, format!("is {k}, but there are {n} fitted points"))),
        None => Err(state.malformed(name, "is missing")),
    }
}

/// `outlier_label_[0]` as an index into the classes.
fn outlier_label(state: &State<'_>, classes: &Classes) -> Result<Option<usize>, LoadError> {
    let value = match state.attr("outlier_label_") {
        None | Some(Value::None) => return Ok(None),
        Some(v) => v,
    };
    let first = match state.heap.tuple(value) {
        Some(items) => items.first().copied().unwrap_or(Value::None),
        None => match state.heap.array(value).map(|a| &a.elements) {
            Some(Elements::Object(items)) => items.first().copied().unwrap_or(Value::None),
            _ => value,
        },
    };
    if first == Value::None {
        return Ok(None);
    }
    let index = (0..classes.len()).find(|&i| {
        let label = classes.label(i);
        match (state.heap.str(first), number_of(state.heap, first)) {
            (Some(s), _) => label.to_json() == s,
            (None, Some(v)) => label.to_json().as_f64() == Some(v),
            _ => false,
        }
    });
    match index {
        Some(i) => Ok(Some(i)),
        None => Err(state.unsupported(
            "outlier_label_ is not one of classes_; a label beyond the classes is not served",
        )),
    }
}

impl NeighboursPredictor {
    fn neighbours(&self, x: ArrayView2<'_, f64>) -> Vec<Neighbours> {
        match self.query {
            Query::Nearest(k) => self.search.kneighbors(x, k),
            Query::Within(r) => self.search.within(x, r),
        }
    }

    fn weights(&self, neighbours: &Neighbours) -> Vec<f64> {
        if self.distance_weighted {
            distance_weights(neighbours)
        } else {
            vec![1.0; neighbours.len()]
        }
    }

    /// Each class's share of the weights, rows × classes.
    fn proba(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let Answers::Classes {
            classes,
            y,
            outlier,
        } = &self.answers
        else {
            unreachable!("only classifiers have probabilities")
        };
        let all = self.neighbours(x);
        let mut out = Array2::zeros((all.len(), classes.len()));
        for (neighbours, mut row) in all.iter().zip(out.rows_mut()) {
            if neighbours.is_empty() {
                if let Some(o) = outlier {
                    row[*o] = 1.0;
                }
                continue;
            }
            for (&(_, i), w) in neighbours.iter().zip(self.weights(neighbours)) {
                row[y[i]] += w;
            }
            let sum: f64 = row.sum();
            let sum = if sum == 0.0 { 1.0 } else { sum };
            row.mapv_inplace(|v| v / sum);
        }
        out
    }

    fn values(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let Answers::Values { y, .. } = &self.answers else {
            unreachable!("only regressors average values")
        };
        let all = self.neighbours(x);
        let mut out = Array2::zeros((all.len(), y.ncols()));
        for (neighbours, mut row) in all.iter().zip(out.rows_mut()) {
            if neighbours.is_empty() {
                row.fill(f64::NAN);
                continue;
            }
            let weights = self.weights(neighbours);
            for (j, o) in row.iter_mut().enumerate() {
                if self.distance_weighted {
                    let num = neighbours
                        .iter()
                        .zip(&weights)
                        .fold(0.0, |s, (&(_, i), w)| s + y[[i, j]] * w);
                    *o = num / weights.iter().sum::<f64>();
                } else {
                    let sum = neighbours.iter().fold(0.0, |s, &(_, i)| s + y[[i, j]]);
                    *o = sum / neighbours.len() as f64;
                }
            }
        }
        out
    }
}

fn first_max(row: ndarray::ArrayView1<'_, f64>) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

impl Predictor for NeighboursPredictor {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.search.n_features()
    }

    fn target(&self) -> Target<'_> {
        match &self.answers {
            Answers::Classes { classes, .. } => Target::Classes(classes),
            Answers::Values { y, one_d } => Target::Values {
                n_outputs: y.ncols(),
                one_d: *one_d,
            },
        }
    }

    fn methods(&self) -> Vec<Method> {
        match self.answers {
            Answers::Classes { .. } => vec![Method::Predict, Method::PredictProba],
            Answers::Values { .. } => vec![Method::Predict],
        }
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        match &self.answers {
            Answers::Classes { .. } => self.predict_with_proba(x).0,
            Answers::Values { .. } => Prediction::Values(self.values(x)),
        }
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        matches!(self.answers, Answers::Classes { .. }).then(|| self.proba(x))
    }

    fn has_predict_proba(&self) -> bool {
        matches!(self.answers, Answers::Classes { .. })
    }

    fn predict_with_proba(&self, x: ArrayView2<'_, f64>) -> (Prediction, Option<Array2<f64>>) {
        let Answers::Classes { outlier, .. } = &self.answers else {
            return (self.predict(x), None);
        };
        let proba = self.proba(x);
        let labels = proba
            .rows()
            .into_iter()
            .map(|row| match outlier {
                Some(o) if row.iter().all(|&p| p == 0.0) => *o,
                _ => first_max(row),
            })
            .collect();
        (Prediction::Classes(labels), Some(proba))
    }

    /// A radius classifier without an outlier label cannot answer a row with no fitted point
    /// within its radius (scikit-learn raises).
    fn refusal(&self, x: ArrayView2<'_, f64>) -> Option<Refusal> {
        let (Query::Within(radius), Answers::Classes { outlier: None, .. }) =
            (self.query, &self.answers)
        else {
            return None;
        };
        let row = self
            .search
            .within(x, radius)
            .iter()
            .position(Vec::is_empty)?;
        Some(Refusal {
            row,
            feature: 0,
            problem: Problem::NoAnswer {
                step: self.class.name().to_owned(),
                reason: format!(
                    "no fitted point lies within the radius {radius}, and the model has no outlier_label"
                ),
            },
        })
    }

    fn unexplained_because(&self) -> Option<String> {
        Some("a neighbours model answers from the fitted points nearest the row; no feature has a part of its own".into())
    }

    fn describe(&self) -> serde_json::Value {
        let mut out = serde_json::json!({
            "class": self.class.name(),
            "n_features_in": self.search.n_features(),
            "weights": if self.distance_weighted { "distance" } else { "uniform" },
            "search": self.search.describe(),
        });
        match self.query {
            Query::Nearest(k) => out["n_neighbors"] = k.into(),
            Query::Within(r) => out["radius"] = r.into(),
        }
        if let Answers::Classes { classes, .. } = &self.answers {
            out["classes"] = classes.to_json();
        }
        out
    }
}
