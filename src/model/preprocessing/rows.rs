//! Normalizer and Binarizer: stateless transformers whose only fitted state is their
//! settings (`norm`, `threshold`) and the width they were fitted on. Dense rows are divided
//! by their norm as `sklearn.preprocessing.normalize` does (a norm under ten epsilons of the
//! dtype counts as 1), sparse rows as its in-place CSR routines do (a zero norm left alone);
//! Binarizer maps `x > threshold` to 1 and the rest to 0, keeping the dtype and, for sparse
//! rows, dropping the zeros it makes. A missing value is refused, as scikit-learn refuses
//! non-finite input to both.

use ndarray::Array2;

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Problem, Refusal, Transformer, first_not_finite};
use crate::model::input::{ColumnKind, Dtype};
use crate::model::sparse::{Csr, Norm};
use crate::model::state::State;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Rule {
    Normalize(Norm),
    Binarize(f64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RowTransformer {
    class: SkClass,
    label: String,
    n_features: usize,
    rule: Rule,
}

impl RowTransformer {
    pub fn read(state: &State<'_>, width: Option<usize>) -> Result<Self, LoadError> {
        let rule = match state.class {
            SkClass::Normalizer => {
                let text = state.text("norm").unwrap_or("l2");
                Rule::Normalize(Norm::parse(text).ok_or_else(|| {
                    state.malformed("norm", format!("is {text:?}, not l1, l2 or max"))
                })?)
            }
            SkClass::Binarizer => {
                let threshold = state.number("threshold")?.unwrap_or(0.0);
                if threshold.is_nan() {
                    return Err(state.malformed("threshold", "is NaN, not a number"));
                }
                Rule::Binarize(threshold)
            }
            other => unreachable!("{other:?} is not a row transformer"),
        };
        let n_features = match (state.count("n_features_in_")?, width) {
            (Some(n), _) => n,
            (None, Some(w)) => w,
            (None, None) => {
                return Err(state.malformed(
                    "n_features_in_",
                    "is missing: the step was saved before it was fitted",
                ));
            }
        };
        state.check_n_features(n_features, "n_features_in_")?;
        Ok(Self {
            class: state.class,
            label: state.label(),
            n_features,
            rule,
        })
    }

    fn missing(&self, row: usize, feature: usize) -> Refusal {
        Refusal {
            row,
            feature,
            problem: Problem::Missing {
                step: self.label.clone(),
            },
        }
    }

    fn sparse(&self, mut values: Csr, dtype: Dtype) -> Result<Data, Refusal> {
        if let Some((row, column, _)) = values.first_not_finite() {
            return Err(self.missing(row, column));
        }
        match self.rule {
            Rule::Normalize(norm) => {
                let dtype = dtype.as_float();
                values.normalize_rows(norm, dtype);
                Ok(Data::Sparse { values, dtype })
            }
            Rule::Binarize(threshold) if threshold < 0.0 => {
                // scikit-learn: "Cannot binarize a sparse matrix with threshold < 0".
                Err(Refusal {
                    row: 0,
                    feature: 0,
                    problem: Problem::Inexact {
                        step: self.label.clone(),
                        reason: "a sparse matrix cannot be binarized with a threshold below 0"
                            .into(),
                    },
                })
            }
            Rule::Binarize(threshold) => {
                let mut out = Csr::with_capacity(values.n_cols(), values.n_rows(), values.nnz());
                for i in 0..values.n_rows() {
                    let (columns, row) = values.row(i);
                    for (&j, &v) in columns.iter().zip(row) {
                        if v > threshold {
                            out.push(j, 1.0);
                        }
                    }
                    out.end_row();
                }
                Ok(Data::Sparse { values: out, dtype })
            }
        }
    }

    fn dense(&self, mut values: Array2<f64>, dtype: Dtype) -> Data {
        match self.rule {
            Rule::Normalize(norm) => {
                let dtype = dtype.as_float();
                let tiny = 10.0
                    * if dtype == Dtype::F32 {
                        f64::from(f32::EPSILON)
                    } else {
                        f64::EPSILON
                    };
                for mut row in values.rows_mut() {
                    let by = match norm {
                        Norm::L1 => row.iter().map(|v| v.abs()).sum::<f64>(),
                        Norm::L2 => row.iter().map(|v| v * v).sum::<f64>().sqrt(),
                        Norm::Max => row.iter().fold(0.0f64, |m, v| m.max(v.abs())),
                    };
                    let by = dtype.round(by);
                    let by = if by < tiny { 1.0 } else { by };
                    row.iter_mut().for_each(|v| *v = dtype.round(*v / by));
                }
                Data::Numbers { values, dtype }
            }
            Rule::Binarize(threshold) => {
                values
                    .iter_mut()
                    .for_each(|v| *v = if *v > threshold { 1.0 } else { 0.0 });
                Data::Numbers { values, dtype }
            }
        }
    }
}

impl Transformer for RowTransformer {
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

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        match data {
            Data::Sparse { values, dtype } => self.sparse(values, dtype),
            data => {
                let (values, dtype) = data.into_numbers(&self.label)?;
                if let Some((row, feature)) = first_not_finite(values.view()) {
                    return Err(self.missing(row, feature));
                }
                Ok(self.dense(values, dtype))
            }
        }
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        let setting = match self.rule {
            Rule::Normalize(norm) => serde_json::json!({ "norm": norm }),
            Rule::Binarize(threshold) => serde_json::json!({ "threshold": threshold }),
        };
        serde_json::json!({
            "class": self.class.name(),
            "columns": input,
            "settings": setting,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn normalizer(norm: Norm) -> RowTransformer {
        RowTransformer {
            class: SkClass::Normalizer,
            label: "Normalizer".into(),
            n_features: 2,
            rule: Rule::Normalize(norm),
        }
    }

    #[test]
    fn rows_are_divided_by_their_norm_and_zero_rows_kept() {
        let out = normalizer(Norm::L2).dense(array![[3.0, -4.0], [0.0, 0.0]], Dtype::F64);
        let Data::Numbers { values, .. } = out else {
            unreachable!()
        };
        assert_eq!(values, array![[0.6, -0.8], [0.0, 0.0]]);
        let out = normalizer(Norm::Max).dense(array![[3.0, -4.0]], Dtype::F64);
        let Data::Numbers { values, .. } = out else {
            unreachable!()
        };
        assert_eq!(values, array![[0.75, -1.0]]);
    }

    #[test]
    fn binarizer_keeps_the_dtype_and_refuses_missing_values() {
        let binarizer = RowTransformer {
            class: SkClass::Binarizer,
            label: "Binarizer".into(),
            n_features: 2,
            rule: Rule::Binarize(0.5),
        };
        let out = binarizer
            .transform(Data::Numbers {
                values: array![[0.5, 2.0]],
                dtype: Dtype::Int,
            })
            .unwrap();
        assert_eq!(
            out.into_numbers("x").unwrap(),
            (array![[0.0, 1.0]], Dtype::Int)
        );
        let refusal = binarizer
            .transform(Data::Numbers {
                values: array![[0.5, f64::NAN]],
                dtype: Dtype::F64,
            })
            .unwrap_err();
        assert_eq!((refusal.row, refusal.feature), (0, 1));
    }
}
