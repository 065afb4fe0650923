//! SplineTransformer: each feature's B-spline basis, as its `transform` computes it. The fitted
//! state is a scipy `BSpline` per feature (`crate::model::bspline` reads and evaluates it),
//! each checked against the settings: its degree, its knots (as many as fitted, and the base
//! knots given as an array), its coefficients (the identity scikit-learn fits, with the first
//! `degree` rows repeated for a periodic spline) and whether it extrapolates. Values inside
//! the fitted range are the splines'; outside it, each extrapolation is computed by its own
//! formula in scikit-learn's order: `continue` extends the end intervals' polynomials,
//! `periodic` wraps the value into the base interval (numpy's `%`), `constant` repeats the
//! end values of the first and last `degree` splines, `linear` continues them along their
//! slopes, and `error` refuses the row naming the column. `sparse_output` gives the same
//! values as sparse rows, as scikit-learn's CSR output.
//!
//! What must not live here: B-spline arithmetic (that is `bspline`'s).

use ndarray::Array2;

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::bspline::BSpline;
use crate::model::estimator::{Data, Needs, Problem, Refusal, Transformer};
use crate::model::fitted;
use crate::model::input::ColumnKind;
use crate::model::sparse::Csr;
use crate::model::state::{State, number_of, numbers_of};
use crate::model::value::{Node, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Extrapolation {
    Error,
    Constant,
    Linear,
    Continue,
    Periodic,
}

impl Extrapolation {
    fn name(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Constant => "constant",
            Self::Linear => "linear",
            Self::Continue => "continue",
            Self::Periodic => "periodic",
        }
    }
}

/// One feature's spline and what extrapolation needs of it, computed once.
#[derive(Clone, Debug, PartialEq)]
struct Feature {
    spline: BSpline,
    /// The fitted range `[t[d], t[-d - 1]]`, `d` the degree (see `continued`).
    low: f64,
    high: f64,
    /// How many bases at each end `linear` continues, and the `d` of the next feature.
    continued: usize,
    /// The basis at `low` and `high`, and its slopes there (`spl(x, nu=1)`).
    at_low: Vec<f64>,
    at_high: Vec<f64>,
    slope_low: Vec<f64>,
    slope_high: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SplineTransformer {
    label: String,
    degree: usize,
    extrapolation: Extrapolation,
    include_bias: bool,
    /// `handle_missing="zeros"` (scikit-learn 1.8 on): a missing value gives a row of zeros.
    zeros_for_missing: bool,
    sparse_output: bool,
    /// Whether the knots were placed on the training data (`uniform`, `quantile`), so that
    /// the base interval is the range the feature took in training.
    knots_from_data: bool,
    /// Basis functions per feature (`c.shape[1]`), before the bias column is dropped.
    n_splines: usize,
    features: Vec<Feature>,
}

impl SplineTransformer {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        let n_features = fitted::count(state, "n_features_in_", 1)?;
        state.check_n_features(n_features, "n_features_in_")?;
        let degree = fitted::count(state, "degree", 0)?;
        let extrapolation = match fitted::one_of(
            state,
            "extrapolation",
            &["error", "constant", "linear", "continue", "periodic"],
        )? {
            "error" => Extrapolation::Error,
            "constant" => Extrapolation::Constant,
            "linear" => Extrapolation::Linear,
            "continue" => Extrapolation::Continue,
            _ => Extrapolation::Periodic,
        };
        let include_bias = state.bool_or("include_bias", true)?;
        if state.has("order") {
            fitted::one_of(state, "order", &["C", "F"])?;
        }
        let zeros_for_missing = state.has("handle_missing")
            && fitted::one_of(state, "handle_missing", &["error", "zeros"])? == "zeros";
        let sparse_output = state.bool_or("sparse_output", false)?;

        let items = state.items("bsplines_")?;
        if items.len() != n_features {
            return Err(state.malformed(
                "bsplines_",
                format!("holds {} splines for {n_features} features", items.len()),
            ));
        }
        let periodic = extrapolation == Extrapolation::Periodic;
        let extrapolates = matches!(
            extrapolation,
            Extrapolation::Periodic | Extrapolation::Continue
        );
        let mut splines = Vec::with_capacity(n_features);
        for (i, value) in items.iter().enumerate() {
            let attr = format!("bsplines_[{i}]");
            let spline = BSpline::read(state, &attr, *value)?;
            check_spline(state, &attr, &spline, degree, periodic, extrapolates)?;
            if let Some(first) = splines.first().map(BSpline::knots)
                && first.len() != spline.knots().len()
            {
                return Err(state.malformed(
                    &format!("{attr}.t"),
                    format!(
                        "has {} knots, but bsplines_[0] has {}",
                        spline.knots().len(),
                        first.len()
                    ),
                ));
            }
            splines.push(spline);
        }
        let n_knots = splines[0].knots().len() - 2 * degree;
        let n_splines = splines[0].outputs();
        let knots_from_data = check_knots(state, &splines, n_knots, degree)?;

        let n_output = n_features * (n_splines - usize::from(!include_bias));
        if let Some(stored) = state.count("n_features_out_")?
            && stored != n_output
        {
            return Err(state.malformed(
                "n_features_out_",
                format!("is {stored} but the splines give {n_output} columns"),
            ));
        }

        let mut features = Vec::with_capacity(n_features);
        // scikit-learn's `transform` raises `degree` by one for each feature it continues
        // linearly while it is at most 1, and does not reset it: with degree 0 or 1, later
        // features take their boundaries and slopes from further knots. Served as it does.
        let mut edge = degree;
        for (i, spline) in splines.into_iter().enumerate() {
            let linear = extrapolation == Extrapolation::Linear;
            let knots = spline.knots();
            let (low, high) = match knots.len().checked_sub(edge + 1) {
                Some(last) if edge < knots.len() => (knots[edge], knots[last]),
                _ => return Err(too_few(state, i, edge)),
            };
            let continued = if linear && edge <= 1 { edge + 1 } else { edge };
            if linear && continued > n_splines {
                return Err(too_few(state, i, continued));
            }
            let at = |x: f64, nu: usize| {
                let mut out = vec![0.0; n_splines];
                spline.evaluate(x, nu, &mut out);
                out
            };
            features.push(Feature {
                low,
                high,
                continued,
                at_low: at(low, 0),
                at_high: at(high, 0),
                slope_low: at(low, 1),
                slope_high: at(high, 1),
                spline,
            });
            if linear {
                edge = continued;
            }
        }
        Ok(Self {
            label: state.label(),
            degree,
            extrapolation,
            include_bias,
            zeros_for_missing,
            sparse_output,
            knots_from_data,
            n_splines,
            features,
        })
    }

    /// The columns of one feature given without its bias column.
    fn width(&self) -> usize {
        self.n_splines - usize::from(!self.include_bias)
    }

    /// Feature `i`'s basis at `v` into `out` (`n_splines` long), as `transform` fills its
    /// block of `XBS`; an error says why there is none.
    fn basis(&self, i: usize, v: f64, out: &mut [f64]) -> Result<(), Problem> {
        let feature = &self.features[i];
        out.fill(0.0);
        if v.is_nan() {
            return if self.zeros_for_missing {
                Ok(())
            } else {
                Err(Problem::Missing {
                    step: self.label.clone(),
                })
            };
        }
        let (low, high) = (feature.low, feature.high);
        match self.extrapolation {
            Extrapolation::Continue => feature.spline.evaluate(v, 0, out),
            Extrapolation::Periodic => {
                feature
                    .spline
                    .evaluate(low + remainder(v - low, high - low), 0, out);
            }
            Extrapolation::Error => {
                feature.spline.evaluate(v, 0, out);
                if out.iter().any(|o| o.is_nan()) {
                    return Err(Problem::OutOfRange {
                        step: self.label.clone(),
                        reason: format!(
                            "{v} is beyond the limits of the knots [{low}, {high}], and the \
                             splines were fitted with extrapolation=\"error\""
                        ),
                    });
                }
            }
            Extrapolation::Constant | Extrapolation::Linear => {
                if low <= v && v <= high {
                    feature.spline.evaluate(v, 0, out);
                }
                let degree = self.degree;
                let n = self.n_splines;
                if self.extrapolation == Extrapolation::Constant {
                    if v < low {
                        out[..degree].copy_from_slice(&feature.at_low[..degree]);
                    }
                    if v > high {
                        if degree == 0 {
                            // `XBS[mask, n:n] = f_max[-0:]`: numpy cannot put a whole basis
                            // into no column, and scikit-learn raises.
                            return Err(Problem::NoAnswer {
                                step: self.label.clone(),
                                reason: format!(
                                    "{v} is above the knots, where degree-0 splines with \
                                     extrapolation=\"constant\" fail in scikit-learn"
                                ),
                            });
                        }
                        out[n - degree..].copy_from_slice(&feature.at_high[n - degree..]);
                    }
                    return Ok(());
                }
                // The first and last bases along their slopes at the boundaries.
                for j in 0..feature.continued {
                    if v < low {
                        out[j] = feature.at_low[j] + (v - low) * feature.slope_low[j];
                    }
                    if v > high {
                        let k = n - 1 - j;
                        out[k] = feature.at_high[k] + (v - high) * feature.slope_high[k];
                    }
                }
            }
        }
        Ok(())
    }
}

/// A degree-0 or degree-1 spline continued linearly whose knots are too few for what
/// scikit-learn's `transform` reads of them (it raises an IndexError).
fn too_few(state: &State<'_>, i: usize, edge: usize) -> LoadError {
    state.unsupported(format!(
        "bsplines_[{i}] has too few knots for the linear continuation scikit-learn computes \
         with degree {edge} there, which fails in scikit-learn"
    ))
}

fn python_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// numpy's `%` of floats: the remainder with the sign of the divisor.
fn remainder(a: f64, b: f64) -> f64 {
    let m = a % b;
    if m == 0.0 {
        0.0_f64.copysign(b)
    } else if (b < 0.0) != (m < 0.0) {
        m + b
    } else {
        m
    }
}

/// One feature's spline against the settings: its degree, its coefficients (the identity
/// scikit-learn fits) and whether it extrapolates.
fn check_spline(
    state: &State<'_>,
    attr: &str,
    spline: &BSpline,
    degree: usize,
    periodic: bool,
    extrapolates: bool,
) -> Result<(), LoadError> {
    let k = spline.degree();
    if k != degree {
        return Err(state.malformed(
            &format!("{attr}.k"),
            format!("is {k}, but degree is {degree}"),
        ));
    }
    let c = spline.coefficients();
    let n_splines = c.nrows() - if periodic { degree } else { 0 };
    if c.nrows() <= degree && periodic || c.ncols() != n_splines {
        return Err(state.malformed(
            &format!("{attr}.c"),
            format!(
                "has shape [{}, {}], but {} knots of degree {degree} give {n_splines} \
                 splines",
                c.nrows(),
                c.ncols(),
                spline.knots().len()
            ),
        ));
    }
    let fitted = |r: usize, j: usize| r == j || (periodic && r >= n_splines && r - n_splines == j);
    if let Some(((r, j), _)) = c
        .indexed_iter()
        .find(|((r, j), v)| **v != f64::from(u8::from(fitted(*r, *j))))
    {
        return Err(state.malformed(
            &format!("{attr}.c[{r}, {j}]"),
            format!(
                "is {}, but the coefficients scikit-learn fits are the identity",
                c[[r, j]]
            ),
        ));
    }
    if spline.extrapolates() != extrapolates {
        return Err(state.malformed(
            &format!("{attr}.extrapolate"),
            format!(
                "is {}, but the extrapolation setting needs {}",
                python_bool(spline.extrapolates()),
                python_bool(extrapolates)
            ),
        ));
    }
    if periodic {
        let (low, high) = spline.base();
        if high <= low {
            return Err(state.unsupported(format!(
                "{attr} is periodic over an empty interval (a feature constant in training), \
                 which scikit-learn versions wrap differently"
            )));
        }
    }
    Ok(())
}

/// `knots` and `n_knots` against the fitted knots: a string names how they were placed (and
/// `n_knots` counts them), an array gives the base knots of every feature, which must be the
/// splines'. Whether the knots were placed on the training data.
fn check_knots(
    state: &State<'_>,
    splines: &[BSpline],
    n_knots: usize,
    degree: usize,
) -> Result<bool, LoadError> {
    let value = state.get("knots")?;
    if let Some(kind) = state.heap.str(value) {
        if !matches!(kind, "uniform" | "quantile") {
            return Err(state.malformed(
                "knots",
                format!("is {kind:?}, not uniform, quantile or an array"),
            ));
        }
        let stated = fitted::count(state, "n_knots", 2)?;
        if stated != n_knots {
            return Err(state.malformed(
                "n_knots",
                format!("is {stated}, but the splines have {n_knots} base knots"),
            ));
        }
        return Ok(true);
    }
    // An array, or a list of rows of numbers.
    let rows = numbers_of(state.heap, value).or_else(|| list_of_rows(state, value));
    let Some((base, shape)) = rows else {
        return Err(state.malformed("knots", "is neither a string nor an array of numbers"));
    };
    let n_features = splines.len();
    if shape != [n_knots, n_features] {
        return Err(state.malformed(
            "knots",
            format!("has shape {shape:?}, but the splines have {n_knots} base knots for {n_features} features"),
        ));
    }
    for (i, spline) in splines.iter().enumerate() {
        let fitted = &spline.knots()[degree..degree + n_knots];
        for (r, &knot) in fitted.iter().enumerate() {
            let given = base[r * n_features + i];
            if given != knot {
                return Err(state.malformed(
                    &format!("knots[{r}, {i}]"),
                    format!("is {given}, but bsplines_[{i}] has the knot {knot} there"),
                ));
            }
        }
    }
    Ok(false)
}

/// A list (or tuple) of rows of numbers, flattened, with its shape.
fn list_of_rows(state: &State<'_>, value: Value) -> Option<(Vec<f64>, Vec<usize>)> {
    let (Some(Node::List(rows)) | Some(Node::Tuple(rows))) = state.heap.node(value) else {
        return None;
    };
    let mut flat = Vec::new();
    let mut width = None;
    for row in rows {
        let (Some(Node::List(items)) | Some(Node::Tuple(items))) = state.heap.node(*row) else {
            return None;
        };
        if *width.get_or_insert(items.len()) != items.len() {
            return None;
        }
        for item in items {
            flat.push(number_of(state.heap, *item)?);
        }
    }
    Some((flat, vec![rows.len(), width.unwrap_or(0)]))
}

impl Transformer for SplineTransformer {
    fn class(&self) -> &'static str {
        SkClass::SplineTransformer.name()
    }

    fn n_features_in(&self) -> usize {
        self.features.len()
    }

    fn sources(&self) -> Vec<usize> {
        (0..self.features.len())
            .flat_map(|i| std::iter::repeat_n(i, self.width()))
            .collect()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        input
            .iter()
            .flat_map(|name| (0..self.width()).map(move |j| format!("{name}_sp_{j}")))
            .collect()
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.features.len()]
    }

    fn fitted_range(&self, feature: usize) -> Option<(f64, f64)> {
        let feature = self.features.get(feature)?;
        self.knots_from_data.then_some((feature.low, feature.high))
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let (x, dtype) = data.into_floats(&self.label)?;
        let width = self.width();
        let mut values = Array2::zeros((x.nrows(), self.features.len() * width));
        let mut block = vec![0.0; self.n_splines];
        for (row, (input, mut output)) in x.rows().into_iter().zip(values.rows_mut()).enumerate() {
            for (feature, &v) in input.iter().enumerate() {
                self.basis(feature, v, &mut block)
                    .map_err(|problem| Refusal {
                        row,
                        feature,
                        problem,
                    })?;
                for (o, b) in output.iter_mut().skip(feature * width).zip(&block[..width]) {
                    *o = dtype.round(*b);
                }
            }
        }
        Ok(if self.sparse_output {
            Data::Sparse {
                values: Csr::from_dense(values.view()),
                dtype,
            }
        } else {
            Data::Numbers { values, dtype }
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": self.class(),
            "columns": input,
            "degree": self.degree,
            "n_knots": self.features[0].spline.knots().len() - 2 * self.degree,
            "extrapolation": self.extrapolation.name(),
            "include_bias": self.include_bias,
            "sparse_output": self.sparse_output,
            "n_output_features": self.features.len() * self.width(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remainders_take_the_divisors_sign_as_numpy_does() {
        assert_eq!(remainder(7.5, 2.0), 1.5);
        assert_eq!(remainder(-0.5, 2.0), 1.5);
        assert_eq!(remainder(-4.0, 2.0), 0.0);
        assert!(remainder(-4.0, 2.0).is_sign_positive());
        assert_eq!(remainder(4.0, 2.0), 0.0);
        assert!(remainder(f64::INFINITY, 2.0).is_nan());
    }
}
