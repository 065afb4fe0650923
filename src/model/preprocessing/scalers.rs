//! StandardScaler, MinMaxScaler, RobustScaler and MaxAbsScaler: one feature in, one out, each
//! the in-place numpy operations scikit-learn's `transform` performs, in its order. float32
//! input stays float32 (each operation is computed in float64 and rounded, as numpy does for
//! `X -= mean_` on a float32 array; from 1.8 on StandardScaler first casts `mean_` and
//! `scale_` to float32 too), and a missing value passes through, as scikit-learn's scalers let
//! NaN through. MaxAbsScaler's `clip` (1.8+) clips to [-1, 1].

use ndarray::Array2;

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::input::{ColumnKind, Dtype};
use crate::model::simd::wide;
use crate::model::state::State;

/// One in-place operation on every value of a feature.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Sub,
    Div,
    Mul,
    Add,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scaler {
    class: SkClass,
    label: String,
    n_features: usize,
    /// The operations in order, each with one operand per feature.
    ops: Vec<(Op, Vec<f64>)>,
    /// MinMaxScaler's `clip`: the feature range bounds; MaxAbsScaler's: [-1, 1].
    clip: Option<(f64, f64)>,
    /// The operands are cast to the input's dtype before each operation (StandardScaler
    /// saved by 1.8 or later: `X -= xp.astype(self.mean_, X.dtype)`).
    operands_in_dtype: bool,
    /// MinMaxScaler's `data_min_` and `data_max_`, per feature: the range training saw.
    fitted: Option<Vec<(f64, f64)>>,
}

impl Scaler {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        let mut ops = Vec::new();
        let mut clip = None;
        let mut fitted = None;
        let n = match state.class {
            SkClass::StandardScaler => {
                let n = width(state, &["mean_", "scale_", "var_"])?;
                if state.bool_or("with_mean", true)? {
                    ops.push((Op::Sub, state.vector("mean_", n)?));
                }
                if state.bool_or("with_std", true)? {
                    ops.push((Op::Div, nonzero(state, "scale_", n)?));
                }
                n
            }
            SkClass::RobustScaler => {
                let n = width(state, &["center_", "scale_"])?;
                if state.bool_or("with_centering", true)? {
                    ops.push((Op::Sub, state.vector("center_", n)?));
                }
                if state.bool_or("with_scaling", true)? {
                    ops.push((Op::Div, nonzero(state, "scale_", n)?));
                }
                n
            }
            SkClass::MinMaxScaler => {
                let n = width(state, &["scale_"])?;
                ops.push((Op::Mul, state.vector("scale_", n)?));
                ops.push((Op::Add, state.vector("min_", n)?));
                if state.has("data_min_") && state.has("data_max_") {
                    let (low, high) =
                        (state.vector("data_min_", n)?, state.vector("data_max_", n)?);
                    // A column all missing in training has NaN for both (its range is not
                    // checked); a minimum over the maximum no fit can give.
                    if let Some(i) = (0..n).find(|&i| low[i] > high[i]) {
                        return Err(state.malformed(
                            &format!("data_min_[{i}]"),
                            format!("is {} but data_max_[{i}] is {}", low[i], high[i]),
                        ));
                    }
                    fitted = Some(low.into_iter().zip(high).collect());
                }
                if state.bool_or("clip", false)? {
                    let range = state.items("feature_range")?;
                    let bounds: Vec<f64> = range
                        .iter()
                        .filter_map(|v| crate::model::state::number_of(state.heap, *v))
                        .collect();
                    let [low, high] = bounds[..] else {
                        return Err(state.malformed("feature_range", "is not a pair of numbers"));
                    };
                    clip = Some((low, high));
                }
                n
            }
            SkClass::MaxAbsScaler => {
                let n = width(state, &["scale_"])?;
                ops.push((Op::Div, nonzero(state, "scale_", n)?));
                if state.bool_or("clip", false)? {
                    clip = Some((-1.0, 1.0));
                }
                n
            }
            other => unreachable!("{other:?} is not a scaler"),
        };
        state.check_n_features(n, "scale_")?;
        Ok(Self {
            class: state.class,
            label: state.label(),
            n_features: n,
            ops,
            clip,
            operands_in_dtype: state.class == SkClass::StandardScaler
                && !state.saved_before((1, 8)),
            fitted,
        })
    }
}

/// The number of features: `n_features_in_` where it was saved (so that a statistic of the
/// wrong length is the one named), else the length of the first of `attrs` that is an array.
fn width(state: &State<'_>, attrs: &[&str]) -> Result<usize, LoadError> {
    if let Some(n) = state.count("n_features_in_")? {
        return Ok(n);
    }
    for attr in attrs {
        if let Ok((values, shape)) = state.numbers(attr)
            && shape.len() == 1
        {
            return Ok(values.len());
        }
    }
    if attrs.iter().all(|attr| !state.has(attr)) {
        return Err(state.malformed(
            attrs[0],
            "is missing: the step was saved before it was fitted",
        ));
    }
    Err(state.malformed(attrs[0], "is missing or not a 1-D array"))
}

/// `row[j] op= operand[j]` for every feature `j`.
#[inline(always)]
fn apply(op: Op, row: &mut [f64], operand: &[f64]) {
    let pairs = row.iter_mut().zip(operand);
    match op {
        Op::Sub => pairs.for_each(|(x, w)| *x -= w),
        Op::Div => pairs.for_each(|(x, w)| *x /= w),
        Op::Mul => pairs.for_each(|(x, w)| *x *= w),
        Op::Add => pairs.for_each(|(x, w)| *x += w),
    }
}

/// A divisor: finite and never zero (scikit-learn stores 1 for a constant feature).
fn nonzero(state: &State<'_>, attr: &str, n: usize) -> Result<Vec<f64>, LoadError> {
    let values = state.vector(attr, n)?;
    if let Some(i) = values.iter().position(|v| *v == 0.0) {
        return Err(state.malformed(
            &format!("{attr}[{i}]"),
            "is 0, which scikit-learn never stores",
        ));
    }
    Ok(values)
}

impl Transformer for Scaler {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn sources(&self) -> Vec<usize> {
        (0..self.n_features).collect()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        input.to_vec()
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.n_features]
    }

    fn fitted_range(&self, feature: usize) -> Option<(f64, f64)> {
        self.fitted.as_ref()?.get(feature).copied()
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let (values, dtype): (Array2<f64>, _) = data.into_floats(&self.label)?;
        let mut values = if values.is_standard_layout() {
            values
        } else {
            values.as_standard_layout().into_owned()
        };
        let float32 = dtype == Dtype::F32;
        // float32 operands where they are cast first (made only then, so that a float64 row
        // allocates nothing here).
        let rounded: Vec<(Op, Vec<f64>)> = if self.operands_in_dtype && float32 {
            self.ops
                .iter()
                .map(|(op, operand)| (*op, operand.iter().map(|&w| dtype.round(w)).collect()))
                .collect()
        } else {
            Vec::new()
        };
        let ops = if rounded.is_empty() {
            &self.ops
        } else {
            &rounded
        };
        let flat = values.as_slice_mut().expect("standard layout");
        // One operation at a time over a whole row, as numpy's in-place operations go over
        // the array: each value sees the same operations in the same order as one by one,
        // and the loops vectorise.
        wide(
            #[inline(always)]
            || {
                for row in flat.chunks_exact_mut(self.n_features.max(1)) {
                    for (op, operand) in ops {
                        apply(*op, row, operand);
                        if float32 {
                            row.iter_mut().for_each(|x| *x = *x as f32 as f64);
                        }
                    }
                    if let Some((low, high)) = self.clip {
                        // np.clip keeps NaN.
                        for x in row.iter_mut() {
                            if *x < low {
                                *x = dtype.round(low);
                            } else if *x > high {
                                *x = dtype.round(high);
                            }
                        }
                    }
                }
            },
        );
        Ok(Data::Numbers { values, dtype })
    }

    /// The operations undone in reverse order (`X *= scale_; X += mean_` for
    /// StandardScaler), on float64.
    fn inverse_transform(&self, mut values: Array2<f64>) -> Option<Array2<f64>> {
        if values.ncols() != self.n_features {
            return None;
        }
        for mut row in values.rows_mut() {
            for (j, x) in row.iter_mut().enumerate() {
                for (op, operand) in self.ops.iter().rev() {
                    let w = operand[j];
                    *x = match op {
                        Op::Sub => *x + w,
                        Op::Div => *x * w,
                        Op::Mul => *x / w,
                        Op::Add => *x - w,
                    };
                }
            }
        }
        Some(values)
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": self.class.name(),
            "columns": input,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn standard() -> Scaler {
        Scaler {
            class: SkClass::StandardScaler,
            label: "StandardScaler".into(),
            n_features: 2,
            ops: vec![(Op::Sub, vec![1.0, 0.1]), (Op::Div, vec![3.0, 7.0])],
            clip: None,
            operands_in_dtype: false,
            fitted: None,
        }
    }

    #[test]
    fn float32_rounds_after_each_operation() {
        let x = array![[2.0, 0.3f32 as f64]];
        let out = standard()
            .transform(Data::Numbers {
                values: x,
                dtype: Dtype::F32,
            })
            .unwrap();
        let Data::Numbers { values, dtype } = out else {
            unreachable!()
        };
        assert_eq!(dtype, Dtype::F32);
        let centred = (0.3f32 as f64 - 0.1) as f32 as f64;
        assert_eq!(values[[0, 1]], (centred / 7.0) as f32 as f64);
        assert_eq!(values[[0, 0]], (1.0f64 / 3.0) as f32 as f64);
    }

    #[test]
    fn missing_values_pass_through() {
        let out = standard()
            .transform(Data::Numbers {
                values: array![[f64::NAN, 1.0]],
                dtype: Dtype::F64,
            })
            .unwrap();
        let Data::Numbers { values, .. } = out else {
            unreachable!()
        };
        assert!(values[[0, 0]].is_nan());
    }
}
