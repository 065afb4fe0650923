//! KBinsDiscretizer: each feature's bin is `np.searchsorted(bin_edges_[j][1:-1], x,
//! side="right")`, the same in every version served and for every strategy (the strategy
//! only decided the edges at fit). `encode="ordinal"` gives the bin indices in the input's
//! float type (or `dtype`'s); `"onehot"` and `"onehot-dense"` give the one-hot columns of
//! its inner OneHotEncoder, sparse and dense, which is checked to be the plain encoder of
//! `0..n_bins_[j]` it is fitted as. Edges are checked at load: one more than the bins,
//! sorted, none NaN (a constant feature's are `[-inf, inf]`). A missing value is refused, as
//! scikit-learn refuses it.
//! The outer edges are the range training saw (model health counts a value outside it).

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Problem, Refusal, Transformer};
use crate::model::input::{ColumnKind, Dtype};
use crate::model::sparse::Csr;
use crate::model::state::{State, numbers_of};
use crate::model::value::{Node, Value};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Encode {
    Ordinal,
    OneHot { sparse: bool },
}

#[derive(Clone, Debug, PartialEq)]
pub struct KBinsDiscretizer {
    label: String,
    /// Each feature's inner edges (`bin_edges_[j][1:-1]`).
    inner_edges: Vec<Vec<f64>>,
    /// Each feature's outer edges (`bin_edges_[j][0]` and `[-1]`): its range in training.
    range: Vec<(f64, f64)>,
    encode: Encode,
    /// `dtype` when set: the output's float type whatever the input's.
    dtype: Option<Dtype>,
}

/// The float type a `dtype` parameter names (`numpy.float32` or `numpy.float64`).
fn float_dtype(state: &State<'_>) -> Result<Option<Dtype>, LoadError> {
    let Some(value) = state.attr("dtype").filter(|v| *v != Value::None) else {
        return Ok(None);
    };
    let name = match state.heap.node(value) {
        Some(Node::Dtype(d)) if d.size == 4 => "float32",
        Some(Node::Dtype(d)) if d.size == 8 => "float64",
        Some(Node::Global(callable)) => match callable.to_string() {
            n if n.ends_with("float32") => "float32",
            n if n.ends_with("float64") => "float64",
            _ => "",
        },
        _ => "",
    };
    match name {
        "float32" => Ok(Some(Dtype::F32)),
        "float64" => Ok(Some(Dtype::F64)),
        _ => Err(state.malformed("dtype", "is neither numpy.float32 nor numpy.float64")),
    }
}

impl KBinsDiscretizer {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        let encode = match state.text("encode").unwrap_or("onehot") {
            "ordinal" => Encode::Ordinal,
            "onehot" => Encode::OneHot { sparse: true },
            "onehot-dense" => Encode::OneHot { sparse: false },
            other => {
                return Err(state.malformed(
                    "encode",
                    format!("is {other:?}, not ordinal, onehot or onehot-dense"),
                ));
            }
        };
        let (n_bins, shape) = state.numbers("n_bins_")?;
        if shape.len() != 1 || n_bins.is_empty() {
            return Err(
                state.malformed("n_bins_", format!("has shape {shape:?}, not [n_features]"))
            );
        }
        let n_features = n_bins.len();
        state.check_n_features(n_features, "n_bins_")?;
        let edges = state.array("bin_edges_")?;
        let edges = edges.object_values();
        if edges.len() != n_features {
            return Err(state.malformed(
                "bin_edges_",
                format!("has {} features' edges for {n_features} bins", edges.len()),
            ));
        }
        let mut inner_edges = Vec::with_capacity(n_features);
        let mut range = Vec::with_capacity(n_features);
        for (j, (&value, &bins)) in edges.iter().zip(&n_bins).enumerate() {
            let what = format!("bin_edges_[{j}]");
            let Some((edge, shape)) = numbers_of(state.heap, value) else {
                return Err(state.malformed(&what, "is not a numeric array"));
            };
            if !(bins >= 1.0 && bins.fract() == 0.0)
                || shape.len() != 1
                || edge.len() as f64 != bins + 1.0
            {
                return Err(state.malformed(
                    &what,
                    format!("has {} edges for n_bins_[{j}] = {bins}", edge.len()),
                ));
            }
            if let Some(i) = edge.iter().position(|e| e.is_nan()) {
                return Err(state.malformed(&format!("{what}[{i}]"), "is NaN"));
            }
            if let Some(i) = edge.windows(2).position(|w| w[0] > w[1]) {
                return Err(state.malformed(&what, format!("is not sorted at {}", i + 1)));
            }
            inner_edges.push(edge[1..edge.len() - 1].to_vec());
            range.push((edge[0], edge[edge.len() - 1]));
        }
        if let Encode::OneHot { .. } = encode {
            check_encoder(state, &n_bins)?;
        }
        Ok(Self {
            label: state.label(),
            inner_edges,
            range,
            encode,
            dtype: float_dtype(state)?,
        })
    }

    fn n_out(&self) -> usize {
        match self.encode {
            Encode::Ordinal => self.inner_edges.len(),
            Encode::OneHot { .. } => self.inner_edges.iter().map(|e| e.len() + 1).sum(),
        }
    }
}

/// The inner encoder must be the one fit made: categories `0..n_bins_[j]` and nothing
/// dropped, so that bin `b` of feature `j` is its column `b`.
fn check_encoder(state: &State<'_>, n_bins: &[f64]) -> Result<(), LoadError> {
    let encoder = State::of(
        state.heap,
        state.get("_encoder")?,
        &state.path.join("_encoder"),
    )?;
    if encoder.class != SkClass::OneHotEncoder {
        return Err(state.malformed("_encoder", "is not a OneHotEncoder"));
    }
    if encoder.attr("drop_idx_").is_some_and(|v| v != Value::None) {
        return Err(state.malformed("_encoder", "drops categories, which fit never asks"));
    }
    let categories = encoder.items("categories_")?;
    if categories.len() != n_bins.len() {
        return Err(state.malformed(
            "_encoder",
            format!(
                "encodes {} features for {} bins",
                categories.len(),
                n_bins.len()
            ),
        ));
    }
    for (j, (&value, &bins)) in categories.iter().zip(n_bins).enumerate() {
        let plain = numbers_of(state.heap, value).is_some_and(|(values, _)| {
            values.len() as f64 == bins && values.iter().enumerate().all(|(i, v)| *v == i as f64)
        });
        if !plain {
            return Err(state.malformed(
                &format!("_encoder categories_[{j}]"),
                format!("are not the bins 0..{bins}"),
            ));
        }
    }
    Ok(())
}

impl Transformer for KBinsDiscretizer {
    fn class(&self) -> &'static str {
        SkClass::KBinsDiscretizer.name()
    }

    fn n_features_in(&self) -> usize {
        self.inner_edges.len()
    }

    fn sources(&self) -> Vec<usize> {
        match self.encode {
            Encode::Ordinal => (0..self.inner_edges.len()).collect(),
            Encode::OneHot { .. } => self
                .inner_edges
                .iter()
                .enumerate()
                .flat_map(|(j, e)| std::iter::repeat_n(j, e.len() + 1))
                .collect(),
        }
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        match self.encode {
            Encode::Ordinal => input.to_vec(),
            Encode::OneHot { .. } => self
                .inner_edges
                .iter()
                .enumerate()
                .flat_map(|(j, e)| (0..=e.len()).map(move |b| format!("{}_{b}", input[j])))
                .collect(),
        }
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.inner_edges.len()]
    }

    fn fitted_range(&self, feature: usize) -> Option<(f64, f64)> {
        self.range.get(feature).copied()
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let (x, dtype) = data.into_floats(&self.label)?;
        let dtype = self.dtype.unwrap_or(dtype);
        // Each value's bin, as a float: the ordinal encoding itself (bin counts are small
        // integers, exact in a float).
        let mut bins = x;
        for (row, mut values) in bins.rows_mut().into_iter().enumerate() {
            for (feature, (v, edges)) in values.iter_mut().zip(&self.inner_edges).enumerate() {
                let rounded = dtype.round(*v);
                if !rounded.is_finite() {
                    return Err(Refusal {
                        row,
                        feature,
                        problem: Problem::Missing {
                            step: self.label.clone(),
                        },
                    });
                }
                *v = edges.partition_point(|e| *e <= rounded) as f64;
            }
        }
        Ok(match self.encode {
            Encode::Ordinal => Data::Numbers {
                values: bins,
                dtype,
            },
            Encode::OneHot { sparse } => {
                let mut out = Csr::with_capacity(self.n_out(), bins.nrows(), bins.len());
                for row in bins.rows() {
                    let mut offset = 0;
                    for (b, edges) in row.iter().zip(&self.inner_edges) {
                        out.push(offset + *b as usize, 1.0);
                        offset += edges.len() + 1;
                    }
                    out.end_row();
                }
                if sparse {
                    Data::Sparse { values: out, dtype }
                } else {
                    Data::Numbers {
                        values: out.to_dense(),
                        dtype,
                    }
                }
            }
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": self.class(),
            "columns": input,
            "n_bins": self.inner_edges.iter().map(|e| e.len() + 1).collect::<Vec<_>>(),
            "encode": format!("{:?}", self.encode),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn a_value_on_an_edge_falls_in_the_bin_above() {
        let k = KBinsDiscretizer {
            label: "KBinsDiscretizer".into(),
            inner_edges: vec![vec![1.0, 2.0], vec![]],
            range: vec![(0.0, 3.0), (f64::NEG_INFINITY, f64::INFINITY)],
            encode: Encode::OneHot { sparse: false },
            dtype: None,
        };
        let out = k
            .transform(Data::Numbers {
                values: array![[1.0, 5.0], [0.5, -3.0], [2.5, 0.0]],
                dtype: Dtype::F64,
            })
            .unwrap();
        let (values, _) = out.into_numbers("x").unwrap();
        assert_eq!(
            values,
            array![
                [0.0, 1.0, 0.0, 1.0],
                [1.0, 0.0, 0.0, 1.0],
                [0.0, 0.0, 1.0, 1.0]
            ]
        );
    }
}
