//! PowerTransformer and QuantileTransformer: each feature mapped on its own towards a normal
//! (or uniform) distribution, by the fitted `lambdas_` or `quantiles_`.
//!
//! PowerTransformer's Yeo-Johnson is scikit-learn's own power form up to 1.8 and
//! `scipy.stats.yeojohnson`'s `expm1`/`log1p` form from 1.9 on (the two differ in the last
//! bits where the result is near zero); Box-Cox is `scipy.special.boxcox`, and a batch with a
//! value at or below zero is refused, as scikit-learn refuses it. `standardize` is the fitted
//! `_scaler`, a StandardScaler read as one. A missing value passes through both.
//!
//! QuantileTransformer is `_transform_col`: `np.interp` forward and backward averaged (so that
//! repeated quantiles map to the middle of their references), the bounds set exactly, and for
//! a normal output `norm.ppf` clipped where scikit-learn clips it. Sparse input is transformed
//! in its stored values only, as scikit-learn does; its negative values are refused.
//!
//! What must not live here: the scalers (`scalers`), special functions (`crate::model::special`).

use ndarray::Array2;

use super::scalers::Scaler;
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Problem, Refusal, Transformer};
use crate::model::fitted;
use crate::model::input::{ColumnKind, Dtype};
use crate::model::sparse::Csr;
use crate::model::special::ndtri;
use crate::model::state::State;

/// Which power transform.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Power {
    /// `expm1_form`: scipy's `expm1(λ·log1p(x))/λ` (1.9+) instead of `((x+1)^λ - 1)/λ`.
    YeoJohnson {
        expm1_form: bool,
    },
    BoxCox,
}

#[derive(Debug)]
pub struct PowerTransformer {
    label: String,
    method: Power,
    lambdas: Vec<f64>,
    scaler: Option<Scaler>,
}

impl PowerTransformer {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        let method = match fitted::one_of(state, "method", &["yeo-johnson", "box-cox"])? {
            "box-cox" => Power::BoxCox,
            _ => Power::YeoJohnson {
                expm1_form: !state.saved_before((1, 9)),
            },
        };
        if !state.has("lambdas_") {
            return Err(state.malformed(
                "lambdas_",
                "is missing: the step was saved before it was fitted",
            ));
        }
        let lambdas = fitted::vector(state, "lambdas_", None)?.to_vec();
        let n = fitted::features(state, lambdas.len(), "lambdas_")?;
        let scaler = if state.bool_or("standardize", true)? {
            let inner = State::of(
                state.heap,
                state.get("_scaler")?,
                &state.path.join("_scaler"),
            )?;
            if inner.class != SkClass::StandardScaler {
                return Err(state.malformed("_scaler", "is not a StandardScaler"));
            }
            let scaler = Scaler::read(&inner)?;
            if scaler.n_features_in() != n {
                return Err(state.malformed(
                    "_scaler",
                    format!(
                        "scales {} features for {n} lambdas_",
                        scaler.n_features_in()
                    ),
                ));
            }
            Some(scaler)
        } else {
            None
        };
        Ok(Self {
            label: state.label(),
            method,
            lambdas,
            scaler,
        })
    }
}

/// `scipy.special.boxcox(x, λ)`.
fn boxcox(x: f64, lambda: f64) -> f64 {
    if lambda.abs() < 1e-19 {
        x.ln()
    } else if lambda * x.ln() < 709.78 {
        (lambda * x.ln()).exp_m1() / lambda
    } else {
        lambda.signum() * (lambda * x.ln() - lambda.abs().ln()).exp() - 1.0 / lambda
    }
}

/// Yeo-Johnson of one value (NaN stays NaN: it takes the negative branch, as in numpy).
fn yeo_johnson(x: f64, lambda: f64, expm1_form: bool) -> f64 {
    let eps = f64::EPSILON;
    if x >= 0.0 {
        if lambda.abs() < eps {
            x.ln_1p()
        } else if expm1_form {
            (lambda * x.ln_1p()).exp_m1() / lambda
        } else {
            ((x + 1.0).powf(lambda) - 1.0) / lambda
        }
    } else if (lambda - 2.0).abs() > eps {
        if expm1_form {
            -((2.0 - lambda) * (-x).ln_1p()).exp_m1() / (2.0 - lambda)
        } else {
            -((-x + 1.0).powf(2.0 - lambda) - 1.0) / (2.0 - lambda)
        }
    } else {
        -(-x).ln_1p()
    }
}

impl Transformer for PowerTransformer {
    fn class(&self) -> &'static str {
        SkClass::PowerTransformer.name()
    }

    fn n_features_in(&self) -> usize {
        self.lambdas.len()
    }

    fn sources(&self) -> Vec<usize> {
        (0..self.lambdas.len()).collect()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        input.to_vec()
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.lambdas.len()]
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let (mut values, dtype) = data.into_floats(&self.label)?;
        if self.method == Power::BoxCox
            && let Some(((row, feature), v)) = values.indexed_iter().find(|(_, v)| **v <= 0.0)
        {
            return Err(Refusal {
                row,
                feature,
                problem: Problem::NoAnswer {
                    step: self.label.clone(),
                    reason: format!(
                        "{v} is not strictly positive, which the Box-Cox transformation needs"
                    ),
                },
            });
        }
        for mut row in values.rows_mut() {
            for (x, &lambda) in row.iter_mut().zip(&self.lambdas) {
                let v = dtype.round(*x);
                *x = dtype.round(match self.method {
                    Power::BoxCox => boxcox(v, lambda),
                    Power::YeoJohnson { expm1_form } => yeo_johnson(v, lambda, expm1_form),
                });
            }
        }
        let out = Data::Numbers { values, dtype };
        match &self.scaler {
            Some(scaler) => scaler.transform(out),
            None => Ok(out),
        }
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": self.class(),
            "columns": input,
            "method": format!("{:?}", self.method),
            "standardize": self.scaler.is_some(),
        })
    }
}

/// scikit-learn's `BOUNDS_THRESHOLD`.
const BOUNDS_THRESHOLD: f64 = 1e-7;

#[derive(Clone, Debug, PartialEq)]
pub struct QuantileTransformer {
    label: String,
    normal: bool,
    /// Per feature, its quantiles (a column of `quantiles_`).
    quantiles: Vec<Vec<f64>>,
    references: Vec<f64>,
    /// The same knots mirrored (negated, in reverse order), for the second of the two
    /// interpolations `_transform_col` averages: made once here rather than for every value.
    mirrored_quantiles: Vec<Vec<f64>>,
    mirrored_references: Vec<f64>,
}

impl QuantileTransformer {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        let normal =
            fitted::one_of(state, "output_distribution", &["uniform", "normal"])? == "normal";
        if !state.has("quantiles_") {
            return Err(state.malformed(
                "quantiles_",
                "is missing: the step was saved before it was fitted",
            ));
        }
        let matrix = fitted::matrix(state, "quantiles_", None, None)?;
        let (n_quantiles, n) = matrix.dim();
        if n_quantiles < 2 {
            return Err(state.malformed(
                "quantiles_",
                format!("has {n_quantiles} quantiles, below 2"),
            ));
        }
        fitted::features(state, n, "quantiles_")?;
        if let Some(count) = state.count("n_quantiles_")?
            && count != n_quantiles
        {
            return Err(state.malformed(
                "n_quantiles_",
                format!("is {count} but quantiles_ has {n_quantiles} rows"),
            ));
        }
        let references = fitted::vector(state, "references_", Some(n_quantiles))?.to_vec();
        if references[0] != 0.0
            || references[n_quantiles - 1] != 1.0
            || references.windows(2).any(|w| w[0] >= w[1])
        {
            return Err(state.malformed("references_", "is not an increasing sequence from 0 to 1"));
        }
        let mut quantiles = Vec::with_capacity(n);
        for (j, column) in matrix.columns().into_iter().enumerate() {
            let column = column.to_vec();
            if let Some(i) = column.windows(2).position(|w| w[0] > w[1]) {
                return Err(state.malformed(
                    &format!("quantiles_[{}, {j}]", i + 1),
                    "is below the quantile before it",
                ));
            }
            quantiles.push(column);
        }
        Ok(Self::new(state.label(), normal, quantiles, references))
    }

    fn new(label: String, normal: bool, quantiles: Vec<Vec<f64>>, references: Vec<f64>) -> Self {
        let mirrored = |knots: &[f64]| knots.iter().rev().map(|k| -k).collect::<Vec<f64>>();
        Self {
            label,
            normal,
            mirrored_quantiles: quantiles.iter().map(|q| mirrored(q)).collect(),
            mirrored_references: mirrored(&references),
            quantiles,
            references,
        }
    }

    /// `_transform_col` forward of one value of feature `j`.
    fn value(&self, j: usize, x: f64) -> f64 {
        if x.is_nan() {
            return x;
        }
        let quantiles = &self.quantiles[j];
        let (low, high) = (quantiles[0], quantiles[quantiles.len() - 1]);
        let (at_low, at_high) = if self.normal {
            (x - BOUNDS_THRESHOLD < low, x + BOUNDS_THRESHOLD > high)
        } else {
            (x == low, x == high)
        };
        let mut y = if at_low {
            0.0
        } else if at_high {
            1.0
        } else {
            0.5 * (interp(x, quantiles, &self.references)
                - interp(-x, &self.mirrored_quantiles[j], &self.mirrored_references))
        };
        if self.normal {
            let spacing = f64::EPSILON;
            let clip_min = ndtri(BOUNDS_THRESHOLD - spacing);
            let clip_max = ndtri(1.0 - (BOUNDS_THRESHOLD - spacing));
            y = ndtri(y).clamp(clip_min, clip_max);
        }
        y
    }
}

/// `np.interp(x, xp, fp)` for one finite `x`: the last knot at or below it, the slope to the
/// next, the end values outside, and numpy's fallbacks where the slope is not finite.
fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    let n = xp.len();
    if x < xp[0] {
        return fp[0];
    }
    if x > xp[n - 1] {
        return fp[n - 1];
    }
    let j = xp.partition_point(|&k| k <= x) - 1;
    if j == n - 1 || xp[j] == x {
        return fp[j];
    }
    let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    let mut y = slope * (x - xp[j]) + fp[j];
    if y.is_nan() {
        y = slope * (x - xp[j + 1]) + fp[j + 1];
        if y.is_nan() && fp[j] == fp[j + 1] {
            y = fp[j];
        }
    }
    y
}

impl Transformer for QuantileTransformer {
    fn class(&self) -> &'static str {
        SkClass::QuantileTransformer.name()
    }

    fn n_features_in(&self) -> usize {
        self.quantiles.len()
    }

    fn sources(&self) -> Vec<usize> {
        (0..self.quantiles.len()).collect()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        input.to_vec()
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.quantiles.len()]
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        if let Data::Sparse { mut values, dtype } = data {
            if let Some((row, feature)) = first_negative(&values) {
                return Err(Refusal {
                    row,
                    feature,
                    problem: Problem::NoAnswer {
                        step: self.label.clone(),
                        reason: "QuantileTransformer only accepts non-negative sparse matrices"
                            .into(),
                    },
                });
            }
            let dtype = dtype.as_float();
            for (column, v) in values.entries_mut() {
                *v = dtype.round(self.value(column, dtype.round(*v)));
            }
            return Ok(Data::Sparse { values, dtype });
        }
        let (mut values, dtype): (Array2<f64>, Dtype) = data.into_floats(&self.label)?;
        for mut row in values.rows_mut() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = dtype.round(self.value(j, dtype.round(*x)));
            }
        }
        Ok(Data::Numbers { values, dtype })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": self.class(),
            "columns": input,
            "output_distribution": if self.normal { "normal" } else { "uniform" },
            "n_quantiles": self.references.len(),
        })
    }
}

/// The row and column of the first stored negative value of a sparse matrix.
fn first_negative(values: &Csr) -> Option<(usize, usize)> {
    (0..values.n_rows()).find_map(|i| {
        let (columns, row) = values.row(i);
        columns
            .iter()
            .zip(row)
            .find(|(_, v)| **v < 0.0)
            .map(|(c, _)| (i, *c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interp_averages_repeated_quantiles_as_scikit_learn_does() {
        let q = quantile(vec![vec![0.0, 1.0, 1.0, 1.0, 2.0]], false);
        // Forward interpolation gives the last reference at 1 (0.75), backward the first
        // (0.25): scikit-learn takes their mean.
        assert_eq!(q.value(0, 1.0), 0.5);
        assert_eq!(q.value(0, 0.5), 0.125);
        assert_eq!(q.value(0, -3.0), 0.0);
        assert_eq!(q.value(0, 2.0), 1.0);
        assert!(q.value(0, f64::NAN).is_nan());
    }

    #[test]
    fn normal_output_is_clipped_where_scikit_learn_clips_it() {
        let q = quantile(vec![vec![0.0, 1.0, 2.0]], true);
        // scipy.stats.norm.ppf(1e-7 - np.spacing(1)), and at the median 0.
        assert_eq!(q.value(0, -5.0), -5.199_337_582_605_575);
        assert_eq!(q.value(0, 1.0), 0.0);
        assert_eq!(q.value(0, 9.0), 5.199_337_582_703_42);
    }

    /// A transformer of evenly spaced references over `quantiles`.
    fn quantile(quantiles: Vec<Vec<f64>>, normal: bool) -> QuantileTransformer {
        let n = quantiles[0].len();
        QuantileTransformer::new(
            "QuantileTransformer".into(),
            normal,
            quantiles,
            (0..n).map(|i| i as f64 / (n - 1) as f64).collect(),
        )
    }

    #[test]
    fn yeo_johnson_forms_agree_away_from_zero() {
        for (x, lambda) in [(3.0, 0.5), (-2.0, 1.3), (0.0, 0.7), (-0.5, 2.0), (4.0, 0.0)] {
            let a = yeo_johnson(x, lambda, false);
            let b = yeo_johnson(x, lambda, true);
            assert!(
                (a - b).abs() <= 1e-12 * a.abs().max(1.0),
                "{x} {lambda}: {a} {b}"
            );
        }
        assert!(yeo_johnson(f64::NAN, 0.5, true).is_nan());
        assert_eq!(boxcox(std::f64::consts::E, 0.0), 1.0);
    }
}
