//! FunctionTransformer, served as the identity (`func=None`), as `check_array` (a
//! `functools.partial` of it, which is how HistGradientBoosting's own preprocessor passes its
//! numeric columns through), or as one of the numpy ufuncs of [`Ufunc`] applied element by
//! element with numpy's types; `kw_args` must be empty, since a ufunc's keywords (`out`,
//! `where`, `dtype`) change what it computes. A file naming any other `func` is refused with
//! the callable's name, since serving it would mean running code from the file. With
//! `validate=True`, or as `check_array`, its input must be numeric and is made one array.
//! Its `inverse_func` (a ufunc or the identity) is what a TransformedTargetRegressor applies
//! to its predictions. Sparse rows stay sparse through the ufuncs scipy's matrices carry
//! (each maps 0 to 0) and are refused by the others, as scikit-learn raises on them.

use ndarray::Array2;

use super::ufunc::Ufunc;
use crate::model::LoadError;
use crate::model::allow::{Callable, SkClass};
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::input::{Column, ColumnKind, Frame};
use crate::model::pickle::PARTIAL_MAY_WRAP;
use crate::model::state::{State, describe};
use crate::model::value::{Heap, Node, Value};

/// What a FunctionTransformer's `func` (or `inverse_func`) is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Func {
    Identity,
    Ufunc(Ufunc),
}

#[derive(Clone, Debug, PartialEq)]
pub struct FunctionTransformer {
    label: String,
    n_features: usize,
    validate: bool,
    /// `accept_sparse`: with `validate`, whether sparse rows pass (else scikit-learn raises).
    accept_sparse: bool,
    func: Func,
    inverse: Func,
}

impl FunctionTransformer {
    /// `width` is the number of columns it is given, for files that did not record
    /// `n_features_in_` (scikit-learn before 1.2 without `validate`).
    pub fn read(state: &State<'_>, width: Option<usize>) -> Result<Self, LoadError> {
        let mut validate = state.bool_or("validate", false)?;
        let func = match state.attr("func") {
            Some(func) if wraps_check_array(state.heap, func) => {
                validate = true;
                Func::Identity
            }
            func => read_func(state, "func", func, "kw_args")?,
        };
        let inverse = read_func(
            state,
            "inverse_func",
            state.attr("inverse_func"),
            "inv_kw_args",
        )?;
        let n_features = match (state.count("n_features_in_")?, width) {
            (Some(n), Some(w)) if n != w => {
                return Err(state.malformed(
                    "n_features_in_",
                    format!("is {n} but it is given {w} columns"),
                ));
            }
            (Some(n), _) | (None, Some(n)) => n,
            (None, None) => return Err(state.malformed("n_features_in_", "is missing")),
        };
        state.check_n_features(n_features, "its input")?;
        let accept_sparse = !matches!(
            state.attr("accept_sparse"),
            None | Some(Value::None) | Some(Value::Bool(false))
        );
        Ok(Self {
            label: state.label(),
            n_features,
            validate,
            accept_sparse,
            func,
            inverse,
        })
    }

    /// `inverse_transform` of numbers: the inverse function, element by element.
    pub fn inverse(&self, values: Array2<f64>) -> Array2<f64> {
        apply_to_numbers(self.inverse, values)
    }
}

/// A function attribute (`func`, `inverse_func`) with its keyword arguments (`kw_attr`).
pub fn read_func(
    state: &State<'_>,
    attr: &str,
    func: Option<Value>,
    kw_attr: &str,
) -> Result<Func, LoadError> {
    let func = match func {
        None | Some(Value::None) => Func::Identity,
        Some(value) => match state.heap.node(value) {
            Some(Node::Global(Callable::Inert(name))) if Ufunc::of_global(name).is_some() => {
                Func::Ufunc(Ufunc::of_global(name).expect("checked"))
            }
            _ => {
                return Err(LoadError::Unsupported(format!(
                    "{}: {attr} is {}; skserve serves a FunctionTransformer whose function is \
                     none (the identity) or one of numpy's {}, since any other would run code \
                     from the file",
                    state.label(),
                    describe(state.heap, value),
                    Ufunc::ALL.map(Ufunc::name).join(", ")
                )));
            }
        },
    };
    match state.attr(kw_attr) {
        None | Some(Value::None) => {}
        Some(kw) => match state.heap.node(kw) {
            Some(Node::Dict(items)) if items.is_empty() => {}
            Some(Node::Dict(items)) => {
                let keys: Vec<&str> = items
                    .iter()
                    .filter_map(|(k, _)| state.heap.str(*k))
                    .collect();
                return Err(state.unsupported(format!(
                    "{kw_attr} passes {keys:?} to {attr}; skserve applies numpy's functions \
                     without keywords"
                )));
            }
            _ => return Err(state.malformed(kw_attr, "is not a dict")),
        },
    }
    Ok(func)
}

/// Whether `func` is `functools.partial(check_array, …)`: numbers in, the same numbers out.
fn wraps_check_array(heap: &Heap<'_>, func: Value) -> bool {
    let Some(Node::Object(object)) = heap.node(func) else {
        return false;
    };
    let wrapped = heap
        .tuple(object.args)
        .and_then(|args| args.first().copied());
    object.class == Callable::Partial
        && matches!(wrapped.and_then(|w| heap.node(w)),
            Some(Node::Global(c)) if c.name() == PARTIAL_MAY_WRAP)
}

/// `func` on a float64 array (a regressor's predictions, for `inverse_func`).
pub fn apply_to_numbers(func: Func, mut values: Array2<f64>) -> Array2<f64> {
    if let Func::Ufunc(u) = func {
        values.mapv_inplace(|v| u.apply(v, crate::model::input::Dtype::F64));
    }
    values
}

impl Transformer for FunctionTransformer {
    fn class(&self) -> &'static str {
        SkClass::FunctionTransformer.name()
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
        let need = if self.validate || self.func != Func::Identity {
            Needs::Kind(ColumnKind::Number)
        } else {
            Needs::AsOutput
        };
        vec![need; self.n_features]
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        if self.validate && !self.accept_sparse && matches!(data, Data::Sparse { .. }) {
            return Err(Refusal {
                row: 0,
                feature: 0,
                problem: crate::model::estimator::Problem::NoAnswer {
                    step: self.label.clone(),
                    reason: "it validates its input without accept_sparse, and scikit-learn \
                             raises on sparse rows"
                        .into(),
                },
            });
        }
        let data = if self.validate && !matches!(data, Data::Sparse { .. }) {
            let (values, dtype) = data.into_numbers(&self.label)?;
            Data::Numbers { values, dtype }
        } else {
            data
        };
        let Func::Ufunc(u) = self.func else {
            return Ok(data);
        };
        Ok(match data {
            // Sparse rows (a vectorizer's) stay sparse, as numpy's ufunc on a scipy matrix
            // leaves them: the ufunc of each stored value, for the ufuncs scipy's matrices
            // carry as methods (each maps 0 to 0). scikit-learn raises on any other.
            Data::Sparse { mut values, dtype } => {
                if !u.keeps_sparse() {
                    return Err(Refusal {
                        row: 0,
                        feature: 0,
                        problem: crate::model::estimator::Problem::NoAnswer {
                            step: self.label.clone(),
                            reason: format!(
                                "numpy.{} does not apply to sparse rows (scikit-learn raises); \
                                 numpy's log1p, expm1, sqrt, arcsinh, absolute and negative do",
                                u.name()
                            ),
                        },
                    });
                }
                u.apply_all(values.values_mut(), dtype);
                Data::Sparse {
                    values,
                    dtype: u.output(dtype),
                }
            }
            Data::Numbers { mut values, dtype } => {
                match values.as_slice_memory_order_mut() {
                    Some(flat) => u.apply_all(flat, dtype),
                    None => values.mapv_inplace(|v| u.apply(v, dtype)),
                }
                Data::Numbers {
                    values,
                    dtype: u.output(dtype),
                }
            }
            // A DataFrame: numpy applies the ufunc column by column, each keeping its type.
            Data::Frame(frame) => {
                let mut columns = Vec::with_capacity(frame.columns.len());
                for (j, column) in frame.columns.into_iter().enumerate() {
                    columns.push(match column {
                        Column::Numbers { mut values, dtype } => Column::Numbers {
                            values: {
                                u.apply_all(&mut values, dtype);
                                values
                            },
                            dtype: u.output(dtype),
                        },
                        Column::Mappings(_) => {
                            return Err(Refusal {
                                row: 0,
                                feature: j,
                                problem: crate::model::estimator::Problem::Text {
                                    step: self.label.clone(),
                                },
                            });
                        }
                        Column::Texts(texts) => {
                            let row = texts.iter().position(Option::is_some).unwrap_or(0);
                            return Err(Refusal {
                                row,
                                feature: j,
                                problem: crate::model::estimator::Problem::Text {
                                    step: self.label.clone(),
                                },
                            });
                        }
                    });
                }
                Data::Frame(Frame {
                    n_rows: frame.n_rows,
                    columns,
                })
            }
        })
    }

    fn inverse_transform(&self, values: Array2<f64>) -> Option<Array2<f64>> {
        Some(self.inverse(values))
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        let name = |f: Func| match f {
            Func::Identity => serde_json::Value::Null,
            Func::Ufunc(u) => format!("numpy.{}", u.name()).into(),
        };
        serde_json::json!({
            "class": "FunctionTransformer",
            "func": name(self.func),
            "inverse_func": name(self.inverse),
            "columns": input,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::estimator::Problem;
    use crate::model::input::Dtype;
    use crate::model::sparse::Csr;

    fn applying(u: Ufunc) -> FunctionTransformer {
        FunctionTransformer {
            label: "FunctionTransformer".into(),
            n_features: 3,
            validate: false,
            accept_sparse: false,
            func: Func::Ufunc(u),
            inverse: Func::Identity,
        }
    }

    fn counts() -> Data {
        Data::Sparse {
            values: Csr::from_dense(ndarray::array![[0.0, 1.0, 4.0], [2.0, 0.0, 0.0]].view()),
            dtype: Dtype::F64,
        }
    }

    #[test]
    fn a_ufunc_scipy_matrices_carry_keeps_sparse_rows_sparse() {
        let Ok(Data::Sparse { values, dtype }) = applying(Ufunc::Sqrt).transform(counts()) else {
            panic!("sqrt of sparse rows is not sparse");
        };
        assert_eq!(dtype, Dtype::F64);
        assert_eq!(values.nnz(), 3);
        assert_eq!(
            values.to_dense(),
            ndarray::array![[0.0, 1.0, 2.0], [2f64.sqrt(), 0.0, 0.0]]
        );
    }

    #[test]
    fn a_ufunc_scipy_matrices_lack_refuses_sparse_rows_as_scikit_learn_raises() {
        for u in [
            Ufunc::Log,
            Ufunc::Exp,
            Ufunc::Square,
            Ufunc::Sign,
            Ufunc::Reciprocal,
        ] {
            match applying(u).transform(counts()) {
                Err(Refusal {
                    problem: Problem::NoAnswer { reason, .. },
                    ..
                }) => assert!(reason.contains(&format!("numpy.{} ", u.name())), "{reason}"),
                _ => panic!("numpy.{} of sparse rows was answered", u.name()),
            }
        }
    }
}
