//! Cross decomposition: PLSRegression, PLSCanonical and CCA (`predict` and `transform`) and
//! PLSSVD (`transform`), read from their fitted means, scales, rotations and coefficients.
//!
//! `transform` standardises the row, `(x - _x_mean) / _x_std`, and projects it on
//! `x_rotations_` (PLSSVD: `x_weights_`). `predict` follows the version that saved the model:
//! - 1.1 and 1.2: the standardised row times `_coef_.T`, plus `intercept_`, always 2-D;
//! - 1.3 and 1.4: the same with `coef_`, 1-D when fitted on a 1-D target (`_predict_1d`);
//! - 1.5 on: the row only centred, `coef_` having been divided by `_x_std` at fit.

use ndarray::{Array1, Array2, ArrayView2, Axis};

use super::LoadError;
use super::allow::SkClass;
use super::compose::{Model, Step};
use super::estimator::{Method, Prediction, Predictor, Target};
use super::fitted;
use super::state::State;

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    matches!(
        class,
        SkClass::PlsRegression | SkClass::PlsCanonical | SkClass::Cca | SkClass::PlsSvd
    )
}

/// How `predict` prepares a row.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum Prepared {
    Standardised,
    Centred,
}

/// What `predict` multiplies and adds.
#[derive(Clone, Debug)]
struct Coefficients {
    /// `n_features × n_targets` (`coef_.T`).
    weights: Array2<f64>,
    intercept: Array1<f64>,
    prepared: Prepared,
    one_d: bool,
}

/// A fitted PLS model.
#[derive(Clone, Debug)]
pub struct Pls {
    class: SkClass,
    mean: Array1<f64>,
    std: Array1<f64>,
    /// `n_features × n_components`.
    rotations: Array2<f64>,
    coefficients: Option<Coefficients>,
}

pub fn read(state: &State<'_>) -> Result<Step, LoadError> {
    let rotations_name = if state.class == SkClass::PlsSvd {
        "x_weights_"
    } else {
        "x_rotations_"
    };
    let rotations = fitted::matrix(state, rotations_name, None, None)?;
    let n = fitted::features(state, rotations.nrows(), rotations_name)?;
    let mean = fitted::vector(state, "_x_mean", Some(n))?;
    let std = fitted::vector(state, "_x_std", Some(n))?;
    if let Some(j) = std.iter().position(|&s| s == 0.0) {
        return Err(state.malformed(&format!("_x_std[{j}]"), "is 0"));
    }
    let coefficients = if state.class == SkClass::PlsSvd {
        None
    } else {
        Some(read_coefficients(state, n)?)
    };
    Ok(Step::Model(Model {
        transformers: Vec::new(),
        predictor: Box::new(Pls {
            class: state.class,
            mean,
            std,
            rotations,
            coefficients,
        }),
        wrappers: Vec::new(),
    }))
}

fn read_coefficients(state: &State<'_>, n: usize) -> Result<Coefficients, LoadError> {
    let (name, prepared) = if state.has("_coef_") {
        ("_coef_", Prepared::Standardised)
    } else if state.saved_before((1, 5)) {
        ("coef_", Prepared::Standardised)
    } else {
        ("coef_", Prepared::Centred)
    };
    let coef = fitted::matrix(state, name, None, Some(n))?;
    let targets = coef.nrows();
    let intercept = fitted::vector(state, "intercept_", Some(targets))?;
    let one_d = state.bool_or("_predict_1d", false)?;
    if one_d && targets != 1 {
        return Err(state.malformed("_predict_1d", format!("is true for {targets} targets")));
    }
    Ok(Coefficients {
        weights: coef.reversed_axes(),
        intercept,
        prepared,
        one_d,
    })
}

impl Pls {
    fn prepared(&self, x: ArrayView2<'_, f64>, prepared: Prepared) -> Array2<f64> {
        let mut out = &x - &self.mean.view().insert_axis(Axis(0));
        if prepared == Prepared::Standardised {
            out /= &self.std.view().insert_axis(Axis(0));
        }
        out
    }
}

impl Predictor for Pls {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.mean.len()
    }

    fn target(&self) -> Target<'_> {
        Target::Values {
            n_outputs: self
                .coefficients
                .as_ref()
                .map_or(self.rotations.ncols(), |c| c.intercept.len()),
            one_d: self.coefficients.as_ref().is_some_and(|c| c.one_d),
        }
    }

    fn methods(&self) -> Vec<Method> {
        match self.coefficients {
            Some(_) => vec![Method::Predict, Method::Transform],
            None => vec![Method::Transform],
        }
    }

    fn predicts(&self) -> bool {
        self.coefficients.is_some()
    }

    fn width(&self, method: Method) -> usize {
        match method {
            Method::Transform => self.rotations.ncols(),
            _ => self.coefficients.as_ref().map_or(0, |c| c.intercept.len()),
        }
    }

    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        (method == Method::Transform).then(|| {
            self.prepared(x, Prepared::Standardised)
                .dot(&self.rotations)
        })
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        let Some(c) = &self.coefficients else {
            return Prediction::Values(Array2::zeros((x.nrows(), 0)));
        };
        let mut out = self.prepared(x, c.prepared).dot(&c.weights);
        out += &c.intercept.view().insert_axis(Axis(0));
        Prediction::Values(out)
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": self.class.name(),
            "n_features_in": self.mean.len(),
            "n_components": self.rotations.ncols(),
            "n_targets": self.coefficients.as_ref().map(|c| c.intercept.len()),
            "predict_prepares": self.coefficients.as_ref().map(|c| c.prepared),
        })
    }
}
