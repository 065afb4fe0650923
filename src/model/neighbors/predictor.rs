//! KNeighborsClassifier/Regressor and RadiusNeighborsClassifier/Regressor: each row's
//! neighbours (the k nearest, or those within the radius) vote or average, weighted uniformly
//! or by `1 / distance` as `_get_weights` weighs them. Classifiers sum each class's weights in
//! the neighbours' order (`predict_proba`) and predict the first largest; a radius classifier
//! gives a row without neighbours to `outlier_label_`, and without one refuses the row as
//! scikit-learn raises. A radius regressor answers NaN for such a row, as scikit-learn does.
//! A classifier of several outputs (`outputs_2d_`) votes output by output; its
//! `predict_proba` is each output's probabilities side by side.

use ndarray::{Array2, ArrayView2, Axis, Slice};

use super::search::{Neighbours, Search, distance_weights};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::classes::{Classes, read_classes, read_output_classes};
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
    /// Each output's classes; each fitted point's class index per output (fitted points ×
    /// outputs); per output, the class (index) a radius classifier gives a row without
    /// neighbours, `None` when it has none; `several` when `outputs_2d_` is true.
    Classes {
        classes: Vec<Classes>,
        y: Array2<usize>,
        outliers: Vec<Option<usize>>,
        several: bool,
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
        let several = state.bool_or("outputs_2d_", false)?;
        let classes = if several {
            read_output_classes(state, "classes_")?
        } else {
            vec![read_classes(state, "classes_")?]
        };
        let y = class_indices(state, n, &classes, several)?;
        let outliers = if radius_kind {
            outlier_labels(state, &classes)?
        } else {
            vec![None; classes.len()]
        };
        Answers::Classes {
            classes,
            y,
            outliers,
            several,
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

/// `_y`: each fitted point's class index per output, checked against that output's classes.
fn class_indices(
    state: &State<'_>,
    n: usize,
    classes: &[Classes],
    several: bool,
) -> Result<Array2<usize>, LoadError> {
    let outputs = classes.len();
    let dims = if several {
        vec![Some(n), Some(outputs)]
    } else {
        vec![Some(n)]
    };
    let (values, _) = fitted::array(state, "_y", &dims)?;
    let mut y = Array2::zeros((n, outputs));
    for (i, (&v, o)) in values.iter().zip(y.iter_mut()).enumerate() {
        let bound = classes[i % outputs].len();
        if v.fract() != 0.0 || v < 0.0 || v >= bound as f64 {
            return Err(state.malformed(
                &format!("_y[{i}]"),
                format!("is {v}, not an index below {bound}"),
            ));
        }
        *o = v as usize;
    }
    Ok(y)
}

/// `outlier_label_` (one label per output) as indices into each output's classes; all `None`
/// when the model has none.
fn outlier_labels(state: &State<'_>, classes: &[Classes]) -> Result<Vec<Option<usize>>, LoadError> {
    let value = match state.attr("outlier_label_") {
        None | Some(Value::None) => return Ok(vec![None; classes.len()]),
        Some(v) => v,
    };
    let labels: Vec<Value> = match state.heap.tuple(value) {
        Some(items) => items.to_vec(),
        None => match state.heap.array(value).map(|a| &a.elements) {
            Some(Elements::Object(items)) => items.clone(),
            _ => vec![value],
        },
    };
    if labels.len() != classes.len() {
        return Err(state.malformed(
            "outlier_label_",
            format!(
                "holds {} labels for {} outputs",
                labels.len(),
                classes.len()
            ),
        ));
    }
    labels
        .iter()
        .zip(classes)
        .map(|(&label, classes)| outlier_index(state, label, classes))
        .collect()
}

/// One output's outlier label as an index into its classes.
fn outlier_index(
    state: &State<'_>,
    label: Value,
    classes: &Classes,
) -> Result<Option<usize>, LoadError> {
    if label == Value::None {
        return Ok(None);
    }
    let index = (0..classes.len()).find(|&i| {
        let known = classes.label(i);
        match (state.heap.str(label), number_of(state.heap, label)) {
            (Some(s), _) => known.to_json() == s,
            (None, Some(v)) => known.to_json().as_f64() == Some(v),
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

    /// Each class's share of the weights, rows × classes, the outputs' classes side by side.
    fn proba(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let Answers::Classes {
            classes,
            y,
            outliers,
            ..
        } = &self.answers
        else {
            unreachable!("only classifiers have probabilities")
        };
        let all = self.neighbours(x);
        let width = classes.iter().map(Classes::len).sum();
        let mut out = Array2::zeros((all.len(), width));
        for (neighbours, mut row) in all.iter().zip(out.rows_mut()) {
            let weights = self.weights(neighbours);
            let mut start = 0;
            for (k, (output, outlier)) in classes.iter().zip(outliers).enumerate() {
                let mut block =
                    row.slice_axis_mut(Axis(0), Slice::from(start..start + output.len()));
                start += output.len();
                if neighbours.is_empty() {
                    if let Some(o) = outlier {
                        block[*o] = 1.0;
                    }
                    continue;
                }
                for (&(_, i), w) in neighbours.iter().zip(&weights) {
                    block[y[[i, k]]] += w;
                }
                let sum: f64 = block.sum();
                let sum = if sum == 0.0 { 1.0 } else { sum };
                block.mapv_inplace(|v| v / sum);
            }
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
            Answers::Classes {
                classes,
                several: false,
                ..
            } => Target::Classes(&classes[0]),
            Answers::Classes { classes, .. } => Target::MultiClasses(classes),
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
        let Answers::Classes {
            classes,
            outliers,
            several,
            ..
        } = &self.answers
        else {
            return (self.predict(x), None);
        };
        let proba = self.proba(x);
        let mut labels = Array2::zeros((proba.nrows(), classes.len()));
        for (row, mut out) in proba.rows().into_iter().zip(labels.rows_mut()) {
            let mut start = 0;
            for ((output, outlier), o) in classes.iter().zip(outliers).zip(out.iter_mut()) {
                let block = row.slice_axis(Axis(0), Slice::from(start..start + output.len()));
                start += output.len();
                *o = match outlier {
                    Some(label) if block.iter().all(|&p| p == 0.0) => *label,
                    _ => first_max(block),
                };
            }
        }
        let prediction = if *several {
            Prediction::MultiClasses(labels)
        } else {
            Prediction::Classes(labels.column(0).to_vec())
        };
        (prediction, Some(proba))
    }

    /// A radius classifier without an outlier label cannot answer a row with no fitted point
    /// within its radius (scikit-learn raises).
    fn refusal(&self, x: ArrayView2<'_, f64>) -> Option<Refusal> {
        let (Query::Within(radius), Answers::Classes { outliers, .. }) =
            (self.query, &self.answers)
        else {
            return None;
        };
        if outliers.iter().all(Option::is_some) {
            return None;
        }
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
        match &self.answers {
            Answers::Classes {
                classes,
                several: false,
                ..
            } => out["classes"] = classes[0].to_json(),
            Answers::Classes { classes, .. } => {
                out["classes"] = classes.iter().map(Classes::to_json).collect();
            }
            Answers::Values { .. } => {}
        }
        out
    }
}
