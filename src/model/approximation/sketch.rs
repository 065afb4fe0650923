//! PolynomialCountSketch: each row, scaled by `sqrt(gamma)` (and given a last feature
//! `sqrt(coef0)` when `coef0` is not 0), is hashed into `degree` count sketches of
//! `n_components` buckets (feature `j` adds `bitHash_[d, j] · x_j` to bucket
//! `indexHash_[d, j]` of sketch `d`, features in order, as scikit-learn adds them); the
//! output is the circular convolution of the `degree` sketches.
//!
//! scikit-learn computes that convolution as `real(ifft(prod(fft(sketches))))`. Here it is
//! summed directly over the sketches' non-zero buckets, which is the same value without the
//! transforms' rounding: the two agree within the FFT's own error (the differential tests
//! compare them within 1e-9 of the row's largest value).

use ndarray::Array2;

use super::{Rows, numbers, prefixed_names};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::fitted;
use crate::model::input::ColumnKind;
use crate::model::state::State;

#[derive(Clone, Debug, PartialEq)]
pub struct CountSketch {
    label: String,
    n_features: usize,
    n_components: usize,
    degree: usize,
    /// `sqrt(gamma)`.
    scale: f64,
    /// `sqrt(coef0)` when `coef0` is not 0: the value of the added last feature.
    constant: Option<f64>,
    /// `indexHash_`: for each sketch, each (augmented) feature's bucket.
    buckets: Vec<Vec<usize>>,
    /// `bitHash_`: for each sketch, each (augmented) feature's sign.
    signs: Vec<Vec<f64>>,
}

impl CountSketch {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        if !state.has("indexHash_") {
            return Err(state.malformed(
                "indexHash_",
                "is missing: the step was saved before it was fitted",
            ));
        }
        let gamma = fitted::scalar(state, "gamma")?;
        let coef0 = fitted::scalar(state, "coef0")?;
        for (name, value) in [("gamma", gamma), ("coef0", coef0)] {
            if value < 0.0 {
                return Err(state.malformed(name, format!("is {value}, below 0")));
            }
        }
        let degree = fitted::count(state, "degree", 1)?;
        let n_components = fitted::count(state, "n_components", 1)?;
        let (index, shape) = fitted::array(state, "indexHash_", &[Some(degree), None])?;
        let width = shape[1];
        let augmented = usize::from(coef0 != 0.0);
        if width <= augmented {
            return Err(state.malformed("indexHash_", "has no features"));
        }
        let n_features = width - augmented;
        fitted::features(state, n_features, "indexHash_")?;
        let (bits, _) = fitted::array(state, "bitHash_", &[Some(degree), Some(width)])?;
        let mut buckets = Vec::with_capacity(degree);
        let mut signs = Vec::with_capacity(degree);
        for d in 0..degree {
            let row = d * width..(d + 1) * width;
            let mut sketch = Vec::with_capacity(width);
            for (j, &v) in index[row.clone()].iter().enumerate() {
                if v.fract() != 0.0 || v < 0.0 || v >= n_components as f64 {
                    return Err(state.malformed(
                        &format!("indexHash_[{d}, {j}]"),
                        format!("is {v}, not a bucket below n_components = {n_components}"),
                    ));
                }
                sketch.push(v as usize);
            }
            buckets.push(sketch);
            if let Some(j) = bits[row.clone()].iter().position(|b| b.abs() != 1.0) {
                return Err(state.malformed(
                    &format!("bitHash_[{d}, {j}]"),
                    format!("is {}, not -1 or 1", bits[d * width + j]),
                ));
            }
            signs.push(bits[row].to_vec());
        }
        Ok(Self {
            label: state.label(),
            n_features,
            n_components,
            degree,
            scale: gamma.sqrt(),
            constant: (coef0 != 0.0).then(|| coef0.sqrt()),
            buckets,
            signs,
        })
    }

    /// One row's output into `out` (`n_components` long).
    fn sketch_row(&self, row: &[f64], sketches: &mut [Vec<f64>], out: &mut [f64]) {
        for (d, sketch) in sketches.iter_mut().enumerate() {
            sketch.iter_mut().for_each(|v| *v = 0.0);
            let features = row.iter().map(|x| self.scale * x).chain(self.constant);
            for ((value, &bucket), &sign) in features.zip(&self.buckets[d]).zip(&self.signs[d]) {
                sketch[bucket] += sign * value;
            }
        }
        convolve(sketches, out);
    }
}

/// The circular convolution of `sketches` into `out`, over their non-zero buckets.
fn convolve(sketches: &[Vec<f64>], out: &mut [f64]) {
    let n = out.len();
    let non_zero = |v: &[f64]| -> Vec<(usize, f64)> {
        v.iter()
            .copied()
            .enumerate()
            .filter(|(_, x)| *x != 0.0)
            .collect()
    };
    let mut acc = non_zero(&sketches[0]);
    let mut next = vec![0.0; n];
    for sketch in &sketches[1..] {
        let other = non_zero(sketch);
        next.iter_mut().for_each(|v| *v = 0.0);
        for &(k, a) in &acc {
            for &(l, b) in &other {
                let at = if k + l >= n { k + l - n } else { k + l };
                next[at] += a * b;
            }
        }
        acc = non_zero(&next);
    }
    out.iter_mut().for_each(|v| *v = 0.0);
    for (k, v) in acc {
        out[k] = v;
    }
}

impl Transformer for CountSketch {
    fn class(&self) -> &'static str {
        SkClass::PolynomialCountSketch.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn sources(&self) -> Vec<usize> {
        vec![0; self.n_components]
    }

    fn mixes_features(&self) -> bool {
        true
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        prefixed_names(SkClass::PolynomialCountSketch, self.n_components)
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.n_features]
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let x = match Rows::of(data, &self.label)? {
            Rows::Dense(x) => x,
            Rows::Sparse(x) => x.to_dense(),
        };
        let x = x.as_standard_layout();
        let mut out = Array2::zeros((x.nrows(), self.n_components));
        let mut sketches = vec![vec![0.0; self.n_components]; self.degree];
        for (row, mut o) in x.rows().into_iter().zip(out.rows_mut()) {
            let row = row.to_slice().expect("standard layout");
            self.sketch_row(row, &mut sketches, o.as_slice_mut().expect("a row"));
        }
        Ok(numbers(out))
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": "PolynomialCountSketch",
            "columns": input,
            "degree": self.degree,
            "n_components": self.n_components,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_convolution_wraps_around() {
        // (1 + 2z) (3z²) mod (z³ - 1) = 3z² + 6.
        let mut out = vec![0.0; 3];
        convolve(&[vec![1.0, 2.0, 0.0], vec![0.0, 0.0, 3.0]], &mut out);
        assert_eq!(out, vec![6.0, 0.0, 3.0]);
    }

    #[test]
    fn one_sketch_is_the_sketch_itself() {
        let mut out = vec![0.0; 2];
        convolve(&[vec![-1.5, 4.0]], &mut out);
        assert_eq!(out, vec![-1.5, 4.0]);
    }
}
