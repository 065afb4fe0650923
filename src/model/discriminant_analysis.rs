//! LinearDiscriminantAnalysis and QuadraticDiscriminantAnalysis, read from their fitted
//! state and checked: coefficients, intercepts, means, scalings and rotations of agreeing
//! shapes, every value finite, QDA's scalings positive (their logarithm and inverse root are
//! taken), `_max_components` within the scalings.
//!
//! LDA is a linear classifier (`X · coef_ᵀ + intercept_`, the sigmoid of two classes or the
//! softmax of more) and, with the `svd` and `eigen` solvers, a projection (`transform`); in a
//! Pipeline it is the last step's classifier or, anywhere else, a transformer. QDA scores each
//! class by its Gaussian: `−½ (‖(x − μ) R S^−½‖² + Σ log S) + log prior`.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use super::LoadError;
use super::allow::SkClass;
use super::classes::{Classes, read_classes};
use super::estimator::{Attribution, Method, Prediction, Predictor, Target, Transformer};
use super::fitted;
use super::linear::{Classifier, LinearClassifier, ProbaRule};
use super::projection::Projection;
use super::simd::{exp_scaled_in_place, product, wide};
use super::state::State;
use super::tree::math::{argmax, pairwise_sum};

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    matches!(
        class,
        SkClass::LinearDiscriminantAnalysis | SkClass::QuadraticDiscriminantAnalysis
    )
}

/// Reads the discriminant analysis whose state is `state`.
pub fn read(state: &State<'_>) -> Result<Box<dyn Predictor>, LoadError> {
    let classes = read_classes(state, "classes_")?;
    if classes.len() < 2 {
        return Err(state.malformed(
            "classes_",
            format!(
                "holds {} class(es); a classifier needs at least 2",
                classes.len()
            ),
        ));
    }
    match state.class {
        SkClass::LinearDiscriminantAnalysis => Ok(Box::new(read_lda(state, classes)?)),
        _ => Ok(Box::new(read_qda(state, classes)?)),
    }
}

/// A fitted LinearDiscriminantAnalysis.
#[derive(Clone, Debug, PartialEq)]
pub struct Lda {
    linear: Classifier,
    /// `None` for the `lsqr` solver, which has no `transform`.
    projection: Option<Projection>,
}

fn read_lda(state: &State<'_>, classes: Classes) -> Result<Lda, LoadError> {
    let k = classes.len();
    let rows = if k == 2 { 1 } else { k };
    let coef = fitted::matrix(state, "coef_", Some(rows), None)?;
    let d = coef.ncols();
    let intercept = fitted::vector(state, "intercept_", Some(rows))?;
    fitted::features(state, d, "coef_")?;
    let solver = fitted::one_of(state, "solver", &["svd", "lsqr", "eigen"])?;
    let projection = if solver == "lsqr" {
        None
    } else {
        let scalings = fitted::matrix(state, "scalings_", Some(d), None)?;
        let max = state
            .count("_max_components")?
            .ok_or_else(|| state.malformed("_max_components", "is missing"))?;
        if max > scalings.ncols() {
            return Err(state.malformed(
                "_max_components",
                format!("is {max} but scalings_ has {} columns", scalings.ncols()),
            ));
        }
        let center = if solver == "svd" {
            Some(fitted::vector(state, "xbar_", Some(d))?)
        } else {
            None
        };
        Some(Projection {
            class: state.class.name(),
            label: state.label(),
            center,
            matrix: scalings.select(ndarray::Axis(1), &(0..max).collect::<Vec<_>>()),
            offset: None,
            logistic: false,
        })
    };
    Ok(Lda {
        linear: Classifier {
            class: state.class,
            weights: LinearClassifier {
                coef: coef.into_iter().collect(),
                intercept: intercept.to_vec(),
                n_features: d,
                n_outputs: rows,
                n_classes: k,
                // Two classes: the sigmoid of the one decision; more: their softmax.
                proba: if k == 2 {
                    ProbaRule::OneVsRest
                } else {
                    ProbaRule::Multinomial
                },
            },
            classes,
        },
        projection,
    })
}

impl Predictor for Lda {
    fn class(&self) -> &'static str {
        self.linear.class()
    }

    fn n_features_in(&self) -> usize {
        self.linear.n_features_in()
    }

    fn target(&self) -> Target<'_> {
        self.linear.target()
    }

    fn methods(&self) -> Vec<Method> {
        let mut methods = vec![
            Method::Predict,
            Method::PredictProba,
            Method::DecisionFunction,
        ];
        if self.projection.is_some() {
            methods.push(Method::Transform);
        }
        methods
    }

    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        match method {
            Method::Transform => self.projection.as_ref().map(|p| p.apply(x)),
            other => self.linear.values(other, x),
        }
    }

    fn width(&self, method: Method) -> usize {
        match method {
            Method::Transform => self.projection.as_ref().map_or(0, Projection::n_outputs),
            other => self.linear.width(other),
        }
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        self.linear.predict(x)
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        self.linear.predict_proba(x)
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        self.linear.decision_function(x)
    }

    fn has_predict_proba(&self) -> bool {
        true
    }

    fn predict_with_proba(&self, x: ArrayView2<'_, f64>) -> (Prediction, Option<Array2<f64>>) {
        self.linear.predict_with_proba(x)
    }

    fn attribution(
        &self,
        row: ArrayView1<'_, f64>,
        predicted: Option<usize>,
    ) -> Option<Attribution> {
        self.linear.attribution(row, predicted)
    }

    fn as_transformer(&self) -> Option<Box<dyn Transformer>> {
        self.projection
            .clone()
            .map(|p| Box::new(p) as Box<dyn Transformer>)
    }

    fn describe(&self) -> serde_json::Value {
        let mut d = self.linear.describe();
        if let Some(obj) = d.as_object_mut() {
            obj.insert(
                "n_components".into(),
                self.projection.as_ref().map(Projection::n_outputs).into(),
            );
        }
        d
    }
}

/// One class's Gaussian in QDA.
#[derive(Clone, Debug, PartialEq)]
struct Gaussian {
    mean: Array1<f64>,
    /// `R · S^−½`: features × rank.
    whiten: Array2<f64>,
    /// `Σ log S`.
    log_det: f64,
    log_prior: f64,
}

/// A fitted QuadraticDiscriminantAnalysis.
#[derive(Clone, Debug, PartialEq)]
pub struct Qda {
    classes: Classes,
    n_features: usize,
    gaussians: Vec<Gaussian>,
}

fn read_qda(state: &State<'_>, classes: Classes) -> Result<Qda, LoadError> {
    let k = classes.len();
    let means = fitted::matrix(state, "means_", Some(k), None)?;
    let d = means.ncols();
    fitted::features(state, d, "means_")?;
    let priors = fitted::vector(state, "priors_", Some(k))?;
    let (rotations, scalings) = (state.items("rotations_")?, state.items("scalings_")?);
    if rotations.len() != k || scalings.len() != k {
        return Err(state.malformed(
            "rotations_",
            format!(
                "holds {} rotations and scalings_ {} scalings for {k} classes",
                rotations.len(),
                scalings.len()
            ),
        ));
    }
    let mut gaussians = Vec::with_capacity(k);
    for c in 0..k {
        let array = |name: &str, value| {
            let at = format!("{name}[{c}]");
            let array = state
                .heap
                .array(value)
                .ok_or_else(|| state.malformed(&at, "is not an array"))?;
            let values = array
                .to_f64()
                .ok_or_else(|| state.malformed(&at, "is not numeric"))?;
            if let Some(v) = values.iter().find(|v| !v.is_finite()) {
                return Err(state.malformed(&at, format!("holds {v}")));
            }
            Ok((values, array.shape.clone(), at))
        };
        let (s, s_shape, s_at) = array("scalings_", scalings[c])?;
        let (r, r_shape, r_at) = array("rotations_", rotations[c])?;
        let rank = s.len();
        if s_shape.len() != 1 || r_shape != [d, rank] {
            return Err(state.malformed(
                &r_at,
                format!("has shape {r_shape:?} for {rank} scalings of {d} features"),
            ));
        }
        if let Some(v) = s.iter().find(|v| **v <= 0.0) {
            return Err(state.malformed(&s_at, format!("holds {v}, not a positive scaling")));
        }
        let mut whiten = Array2::from_shape_vec((d, rank), r).expect("the shape was checked");
        for mut row in whiten.rows_mut() {
            for (w, s) in row.iter_mut().zip(&s) {
                *w *= s.powf(-0.5);
            }
        }
        let logs: Vec<f64> = s.iter().map(|v| v.ln()).collect();
        gaussians.push(Gaussian {
            mean: means.row(c).to_owned(),
            whiten,
            log_det: pairwise_sum(&logs),
            log_prior: priors[c].ln(),
        });
    }
    Ok(Qda {
        classes,
        n_features: d,
        gaussians,
    })
}

impl Qda {
    /// `_decision_function`: each class's log posterior, up to a constant.
    fn scores(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut out = Array2::zeros((x.nrows(), self.gaussians.len()));
        let mut squares = Vec::new();
        for (c, g) in self.gaussians.iter().enumerate() {
            let projected = product((&x - &g.mean).view(), g.whiten.view());
            squares.resize(projected.ncols(), 0.0);
            let mut column = out.column_mut(c);
            wide(
                #[inline(always)]
                || {
                    for (row, o) in projected.rows().into_iter().zip(column.iter_mut()) {
                        for (s, v) in squares.iter_mut().zip(row) {
                            *s = v * v;
                        }
                        let norm2 = pairwise_sum(&squares);
                        *o = -0.5 * (norm2 + g.log_det) + g.log_prior;
                    }
                },
            );
        }
        out
    }

    fn labels(scores: &Array2<f64>) -> Prediction {
        Prediction::Classes(
            scores
                .rows()
                .into_iter()
                .map(|r| argmax(r.as_slice().expect("contiguous")))
                .collect(),
        )
    }

    /// `exp(predict_log_proba)`: the scores less their maximum, less the log of their
    /// exponentials' sum.
    /// The exponentials of the whole matrix are taken at once (wide), not one call each.
    fn proba(mut scores: Array2<f64>) -> Array2<f64> {
        let k = scores.ncols();
        if k == 0 || scores.nrows() == 0 {
            return scores;
        }
        let flat = scores.as_slice_mut().expect("the scores are a new array");
        for row in flat.chunks_exact_mut(k) {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            row.iter_mut().for_each(|v| *v -= max);
        }
        let mut exps = flat.to_vec();
        exp_scaled_in_place(&mut exps, 1.0);
        for (row, exps) in flat.chunks_exact_mut(k).zip(exps.chunks_exact(k)) {
            let log_sum = pairwise_sum(exps).ln();
            row.iter_mut().for_each(|v| *v -= log_sum);
        }
        exp_scaled_in_place(flat, 1.0);
        scores
    }
}

impl Predictor for Qda {
    fn class(&self) -> &'static str {
        SkClass::QuadraticDiscriminantAnalysis.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        Target::Classes(&self.classes)
    }

    fn methods(&self) -> Vec<Method> {
        vec![
            Method::Predict,
            Method::PredictProba,
            Method::DecisionFunction,
        ]
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        Self::labels(&self.scores(x))
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        Some(Self::proba(self.scores(x)))
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        let scores = self.scores(x);
        if self.classes.len() == 2 {
            return Some(Array2::from_shape_fn((scores.nrows(), 1), |(i, _)| {
                scores[[i, 1]] - scores[[i, 0]]
            }));
        }
        Some(scores)
    }

    fn has_predict_proba(&self) -> bool {
        true
    }

    fn predict_with_proba(&self, x: ArrayView2<'_, f64>) -> (Prediction, Option<Array2<f64>>) {
        let scores = self.scores(x);
        (Self::labels(&scores), Some(Self::proba(scores)))
    }

    fn unexplained_because(&self) -> Option<String> {
        Some("its decision is quadratic in the features".into())
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": self.class(),
            "n_features_in": self.n_features,
            "classes": self.classes.to_json(),
        })
    }
}
