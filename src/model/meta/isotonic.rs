//! IsotonicRegression: linear interpolation between `X_thresholds_` and `y_thresholds_`
//! (scipy's `interp1d`, which `__setstate__` rebuilds from them), after clipping to
//! `[X_min_, X_max_]` under `out_of_bounds="clip"`; outside them, not-a-number under `"nan"`,
//! a refusal under `"raise"`. Served alone on one column (`predict` and `transform`), and as a
//! calibrator of CalibratedClassifierCV.

use ndarray::{Array2, ArrayView2};

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Method, Prediction, Predictor, Target};
use crate::model::state::State;

/// What happens to a value outside the thresholds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum OutOfBounds {
    Clip,
    Nan,
    Raise,
}

#[derive(Debug)]
pub struct Isotonic {
    x: Vec<f64>,
    y: Vec<f64>,
    x_min: f64,
    x_max: f64,
    out_of_bounds: OutOfBounds,
    /// Fitted on float32: values are cast to it, and so is the answer.
    float32: bool,
}

impl Isotonic {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        let x_array = state.array("X_thresholds_")?;
        let float32 =
            x_array.dtype.kind == crate::model::value::Kind::Float && x_array.dtype.size == 4;
        let (x, x_shape) = state.numbers("X_thresholds_")?;
        let (y, y_shape) = state.numbers("y_thresholds_")?;
        if x_shape.len() != 1 || y_shape != x_shape || x.is_empty() {
            return Err(state.malformed(
                "y_thresholds_",
                format!("has shape {y_shape:?} beside X_thresholds_ of shape {x_shape:?}"),
            ));
        }
        if let Some(i) = x.iter().chain(&y).position(|v| !v.is_finite()) {
            return Err(state.malformed(
                if i < x.len() {
                    "X_thresholds_"
                } else {
                    "y_thresholds_"
                },
                "holds NaN or infinity",
            ));
        }
        if let Some(i) = x.windows(2).position(|w| w[0] >= w[1]) {
            return Err(state.malformed(
                &format!("X_thresholds_[{}]", i + 1),
                "is not above the threshold before it (they must increase)",
            ));
        }
        let bound = |name: &str| -> Result<f64, LoadError> {
            state
                .number(name)?
                .filter(|v| v.is_finite())
                .ok_or_else(|| state.malformed(name, "is not a finite number"))
        };
        let (x_min, x_max) = (bound("X_min_")?, bound("X_max_")?);
        if x_min > x_max {
            return Err(state.malformed("X_min_", format!("is above X_max_ ({x_min} > {x_max})")));
        }
        let out_of_bounds = match state.text("out_of_bounds") {
            Some("nan") | None => OutOfBounds::Nan,
            Some("clip") => OutOfBounds::Clip,
            Some("raise") => OutOfBounds::Raise,
            Some(other) => return Err(state.malformed("out_of_bounds", format!("is {other:?}"))),
        };
        if out_of_bounds == OutOfBounds::Raise {
            return Err(state.unsupported(
                "out_of_bounds='raise' makes scikit-learn fail on a value outside the fitted \
                 range; skserve serves 'clip' and 'nan'",
            ));
        }
        Ok(Self {
            x,
            y,
            x_min,
            x_max,
            out_of_bounds,
            float32,
        })
    }

    /// `predict` of one value.
    pub fn apply(&self, t: f64) -> f64 {
        let t = if self.float32 { t as f32 as f64 } else { t };
        let t = match self.out_of_bounds {
            OutOfBounds::Clip => t.max(self.x_min).min(self.x_max),
            _ => t,
        };
        let out = self.interpolate(t);
        if self.float32 { out as f32 as f64 } else { out }
    }

    /// scipy's `interp1d(kind="linear")`: the segment `searchsorted` finds (side left), its
    /// slope times the distance from its left end, plus that end's value; not-a-number
    /// outside the thresholds.
    fn interpolate(&self, t: f64) -> f64 {
        let n = self.x.len();
        if n == 1 {
            // A single threshold: the constant prediction, everywhere.
            return self.y[0];
        }
        if t.is_nan() || t < self.x[0] || t > self.x[n - 1] {
            return f64::NAN;
        }
        let index = self.x.partition_point(|&v| v < t).clamp(1, n - 1);
        let (lo, hi) = (index - 1, index);
        let slope = (self.y[hi] - self.y[lo]) / (self.x[hi] - self.x[lo]);
        slope * (t - self.x[lo]) + self.y[lo]
    }

    /// As a model of its own: one column in, one value out.
    pub fn served(self) -> Served {
        Served(self)
    }
}

/// IsotonicRegression saved alone.
#[derive(Debug)]
pub struct Served(Isotonic);

impl Predictor for Served {
    fn class(&self) -> &'static str {
        SkClass::IsotonicRegression.name()
    }

    fn n_features_in(&self) -> usize {
        1
    }

    fn target(&self) -> Target<'_> {
        Target::Values {
            n_outputs: 1,
            one_d: true,
        }
    }

    fn methods(&self) -> Vec<Method> {
        vec![Method::Predict, Method::Transform]
    }

    fn width(&self, _method: Method) -> usize {
        1
    }

    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        (method == Method::Transform).then(|| x.mapv(|t| self.0.apply(t)))
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        Prediction::Values(x.mapv(|t| self.0.apply(t)))
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": SkClass::IsotonicRegression.name(),
            "thresholds": self.0.x.len(),
            "out_of_bounds": match self.0.out_of_bounds {
                OutOfBounds::Clip => "clip",
                OutOfBounds::Nan => "nan",
                OutOfBounds::Raise => "raise",
            },
        })
    }
}
