//! scipy's `BSpline` as a fitted SplineTransformer keeps it: read from its pickled state
//! (`t`, `c`, `k`, `extrapolate`, `axis`; `_t`, `_c` and an inert `_asarray` in recent scipy
//! releases), every field checked, and evaluated as scipy's `BSpline.__call__` evaluates it:
//! the knot interval found as its `find_interval` finds it, the `k + 1` non-zero basis values
//! (or their derivatives) by de Boor's recursion in the order its `_deBoor_D` computes them,
//! and each output the sum of coefficients times those values, added in scipy's order. The
//! values are therefore scipy's to the last bit wherever the arithmetic is the same IEEE
//! arithmetic, including at the knots (a value on a knot belongs to the interval it starts).
//!
//! What must not live here: what SplineTransformer makes of the values (extrapolation, bias,
//! the layout of its columns); that is `preprocessing::spline`'s.

use ndarray::Array2;

use super::LoadError;
use super::allow::{Callable, SkClass};
use super::state::{State, numbers_of};
use super::value::{Node, Value};

/// The highest degree served: de Boor's recursion costs `k²` per value, and scikit-learn's
/// own splines are cubic by default.
pub const MAX_DEGREE: usize = 50;

/// The array constructor recent scipy releases keep in `_asarray`, never called.
const ASARRAY: &str = "scipy._lib.array_api_compat.numpy._aliases.asarray";

/// A B-spline of degree `k` on the knots `t`, with a column of coefficients per output.
#[derive(Clone, Debug, PartialEq)]
pub struct BSpline {
    t: Vec<f64>,
    /// `n × outputs`, `n = len(t) - k - 1` rows (scipy ignores any further rows).
    c: Array2<f64>,
    k: usize,
    extrapolate: bool,
}

impl BSpline {
    /// The spline `value`, held by `owner`'s attribute `attr` (`bsplines_[2]`); every error
    /// names the owner and `attr`.
    pub fn read(owner: &State<'_>, attr: &str, value: Value) -> Result<Self, LoadError> {
        let spline = State::of(owner.heap, value, &owner.path)
            .ok()
            .filter(|s| s.class == SkClass::BSpline)
            .ok_or_else(|| {
                owner.malformed(
                    attr,
                    format!(
                        "is {}, not a scipy BSpline",
                        super::state::describe(owner.heap, value)
                    ),
                )
            })?;
        let bad =
            |field: &str, problem: String| owner.malformed(&format!("{attr}.{field}"), problem);
        // scipy keeps `t` and `c` as `_t` and `_c` in its newest releases; messages name
        // them as scipy's users know them.
        let field = |name: &'static str| {
            spline
                .attr(name)
                .or_else(|| spline.attr(&format!("_{name}")))
                .map(|v| (name, v))
                .ok_or_else(|| bad(name, "is missing".into()))
        };
        let numbers = |name: &str, value: Value| {
            if let Some(array) = owner.heap.array(value) {
                owner.charge_copy(&format!("{attr}.{name}"), array)?;
            }
            numbers_of(owner.heap, value).ok_or_else(|| bad(name, "is not numeric".into()))
        };

        let k = match spline.attr("k") {
            Some(Value::Int(k)) if k >= 0 => usize::try_from(k).unwrap_or(usize::MAX),
            Some(Value::Int(k)) => return Err(bad("k", format!("is {k}, a negative degree"))),
            _ => return Err(bad("k", "is not an integer degree".into())),
        };
        if k > MAX_DEGREE {
            return Err(bad(
                "k",
                format!("is {k}, above the highest degree served ({MAX_DEGREE})"),
            ));
        }

        let (name, value) = field("t")?;
        let (t, shape) = numbers(name, value)?;
        if shape.len() != 1 {
            return Err(bad(
                name,
                format!("has shape {shape:?}, expected one dimension"),
            ));
        }
        super::fitted::finite(owner, &format!("{attr}.{name}"), &t)?;
        if let Some(i) = t.windows(2).position(|w| w[1] < w[0]) {
            return Err(owner.malformed(
                &format!("{attr}.{name}[{}]", i + 1),
                format!("is {}, below the knot before it ({})", t[i + 1], t[i]),
            ));
        }
        if t.len() < 2 * k + 2 {
            return Err(bad(
                name,
                format!(
                    "has {} knots, fewer than the {} a spline of degree {k} needs",
                    t.len(),
                    2 * k + 2
                ),
            ));
        }
        let n = t.len() - k - 1;

        let (name, value) = field("c")?;
        let (c, shape) = numbers(name, value)?;
        if shape.len() != 2 || shape[0] != n || shape[1] == 0 {
            return Err(bad(
                name,
                format!(
                    "has shape {shape:?}, expected [{n}, _]: a coefficient per basis function \
                     of {} knots of degree {k}",
                    t.len()
                ),
            ));
        }
        super::fitted::finite(owner, &format!("{attr}.{name}"), &c)?;
        let c = Array2::from_shape_vec((shape[0], shape[1]), c).expect("the shape was checked");

        let extrapolate = match spline.attr("extrapolate") {
            Some(Value::Bool(b)) => b,
            _ => return Err(bad("extrapolate", "is not a boolean".into())),
        };
        if spline.attr("axis") != Some(Value::Int(0)) {
            return Err(bad("axis", "is not 0".into()));
        }
        if let Some(marker) = spline.attr("_asarray") {
            let inert = matches!(
                owner.heap.node(marker),
                Some(Node::Global(Callable::Inert(name))) if name == ASARRAY
            );
            if !inert {
                return Err(bad("_asarray", format!("is not {ASARRAY}")));
            }
        }
        Ok(Self {
            t,
            c,
            k,
            extrapolate,
        })
    }

    pub fn knots(&self) -> &[f64] {
        &self.t
    }

    pub fn degree(&self) -> usize {
        self.k
    }

    pub fn coefficients(&self) -> &Array2<f64> {
        &self.c
    }

    pub fn extrapolates(&self) -> bool {
        self.extrapolate
    }

    /// The number of values each evaluation gives (`c.shape[1]`).
    pub fn outputs(&self) -> usize {
        self.c.ncols()
    }

    /// The base interval `[t[k], t[n]]`, outside which the spline extrapolates or is NaN.
    pub fn base(&self) -> (f64, f64) {
        (self.t[self.k], self.t[self.t.len() - self.k - 1])
    }

    /// `spl(x, nu)` with the spline's own `extrapolate`, into `out` (`outputs()` long): NaN
    /// everywhere where scipy gives NaN (a NaN `x`, or `x` outside the base interval without
    /// extrapolation).
    pub fn evaluate(&self, x: f64, nu: usize, out: &mut [f64]) {
        let Some(ell) = self.interval(x) else {
            out.fill(f64::NAN);
            return;
        };
        let mut work = [0.0; 2 * (MAX_DEGREE + 1)];
        de_boor(&self.t, x, self.k, ell, nu, &mut work);
        for (jp, o) in out.iter_mut().enumerate() {
            let mut sum = 0.0;
            for (a, w) in work[..=self.k].iter().enumerate() {
                sum += self.c[[ell + a - self.k, jp]] * w;
            }
            *o = sum;
        }
    }

    /// scipy's `find_interval`: the `l` in `k..n` with `t[l] <= x < t[l + 1]`, the last one
    /// for `x` at or past `t[n]` and the first for `x` before `t[k]` (when extrapolating).
    fn interval(&self, x: f64) -> Option<usize> {
        let k = self.k;
        let n = self.t.len() - k - 1;
        let (low, high) = self.base();
        if x.is_nan() || (!self.extrapolate && (x < low || x > high)) {
            return None;
        }
        // The first knot after x among t[k + 1..n], or n.
        let after = k + 1 + self.t[k + 1..n].partition_point(|&knot| knot <= x);
        Some(after - 1)
    }
}

/// scipy's `_deBoor_D`: the `k + 1` non-zero B-splines of degree `k` at `x` in the interval
/// `ell` (or their `m`-th derivatives) into `work[..=k]`, `work[k + 1..]` its scratch.
fn de_boor(t: &[f64], x: f64, k: usize, ell: usize, m: usize, work: &mut [f64]) {
    let (h, hh) = work.split_at_mut(k + 1);
    h[0] = 1.0;
    // `k - m` steps of the recursion give the basis of degree `k - m`; `m` more give the
    // `m`-th derivatives of the basis of degree `k`. From `k - m + 1`, which is 0 for a
    // derivative of a degree-0 spline: scipy then only zeroes `h[0]`.
    if m > k {
        h[0] = 0.0;
    }
    for j in 1..=k {
        let derivative = j + m > k;
        hh[..j].copy_from_slice(&h[..j]);
        h[0] = 0.0;
        for n in 1..=j {
            let xb = t[ell + n];
            let xa = t[ell + n - j];
            if xb == xa {
                // scipy zeroes `h[m]` here in the derivative steps, not `h[n]`; kept, so
                // that repeated knots give its values.
                h[if derivative { m } else { n }] = 0.0;
                continue;
            }
            if derivative {
                let w = j as f64 * hh[n - 1] / (xb - xa);
                h[n - 1] -= w;
                h[n] = w;
            } else {
                let w = hh[n - 1] / (xb - xa);
                h[n - 1] += w * (xb - x);
                h[n] = w * (x - xa);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spline(t: Vec<f64>, k: usize, extrapolate: bool) -> BSpline {
        let n = t.len() - k - 1;
        BSpline {
            t,
            c: Array2::eye(n),
            k,
            extrapolate,
        }
    }

    #[test]
    fn the_basis_sums_to_one_inside_and_is_nan_outside_without_extrapolation() {
        let s = spline((0..10).map(f64::from).collect(), 3, false);
        let mut out = vec![0.0; 6];
        for x in [3.0, 3.5, 4.0, 5.25, 6.0] {
            s.evaluate(x, 0, &mut out);
            let sum: f64 = out.iter().sum();
            assert!((sum - 1.0).abs() < 1e-15, "{x}: {out:?}");
        }
        // The cardinal cubic at a knot: 1/6, 2/3, 1/6.
        s.evaluate(4.0, 0, &mut out);
        assert_eq!(&out[..4], &[0.0, 1.0 / 6.0, 2.0 / 3.0, 1.0 / 6.0]);
        s.evaluate(6.0 + 1e-9, 0, &mut out);
        assert!(out.iter().all(|v| v.is_nan()));
        s.evaluate(f64::NAN, 0, &mut out);
        assert!(out.iter().all(|v| v.is_nan()));
    }

    #[test]
    fn derivatives_of_a_linear_basis_are_its_slopes() {
        let s = spline(vec![0.0, 1.0, 2.0, 4.0], 1, true);
        let mut out = vec![0.0; 2];
        s.evaluate(1.5, 1, &mut out);
        assert_eq!(out, [-1.0, 1.0]);
        // Beyond the base interval [1, 2], the last interval's lines continue (scipy's
        // values).
        s.evaluate(3.0, 1, &mut out);
        assert_eq!(out, [-1.0, 1.0]);
        s.evaluate(5.0, 0, &mut out);
        assert_eq!(out, [-3.0, 4.0]);
    }

    #[test]
    fn intervals_are_scipys_at_the_knots_and_beyond() {
        let s = spline((0..8).map(f64::from).collect(), 2, true);
        assert_eq!(s.interval(2.0), Some(2));
        assert_eq!(s.interval(2.5), Some(2));
        assert_eq!(s.interval(3.0), Some(3));
        assert_eq!(s.interval(5.0), Some(4));
        assert_eq!(s.interval(100.0), Some(4));
        assert_eq!(s.interval(-100.0), Some(2));
        // scipy's values at a knot, at the last knot and far beyond it.
        let mut out = vec![0.0; 5];
        s.evaluate(2.0, 0, &mut out);
        assert_eq!(out, [0.5, 0.5, 0.0, 0.0, 0.0]);
        s.evaluate(5.0, 0, &mut out);
        assert_eq!(out, [0.0, 0.0, 0.0, 0.5, 0.5]);
        s.evaluate(100.0, 0, &mut out);
        assert_eq!(out, [0.0, 0.0, 4512.5, -9119.5, 4608.0]);
    }
}
