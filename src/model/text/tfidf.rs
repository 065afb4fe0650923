//! TF-IDF weighting: TfidfTransformer as a step of its own (after a CountVectorizer), and the
//! weighting TfidfVectorizer keeps in its `_tfidf`. Its `transform` is scikit-learn's, in
//! order: counts as floats (`check_array(dtype=[float64, float32])`), `1 + log(tf)` when
//! `sublinear_tf`, each value times its term's `idf_` (`_idf_diag`'s diagonal before 1.5),
//! then each row divided by its norm.

use ndarray::Array2;

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::input::{ColumnKind, Dtype};
use crate::model::scipy::read_csr;
use crate::model::sparse::{Csr, Norm};
use crate::model::state::State;

/// What a fitted TfidfTransformer does to counts.
#[derive(Clone, Debug, PartialEq)]
pub struct Weighting {
    pub sublinear: bool,
    /// `idf_`, one per term; `None` when `use_idf` is false.
    pub idf: Option<Vec<f64>>,
    pub norm: Option<Norm>,
}

/// A vectorizer's or Normalizer's `norm`: `"l1"`, `"l2"`, `"max"` or `None`.
pub fn read_norm(state: &State<'_>) -> Result<Option<Norm>, LoadError> {
    match state.attr("norm") {
        None | Some(crate::model::value::Value::None) => Ok(None),
        Some(_) => {
            let text = state.text_required("norm")?;
            Norm::parse(text)
                .map(Some)
                .ok_or_else(|| state.malformed("norm", format!("is {text:?}, not l1, l2 or max")))
        }
    }
}

impl Weighting {
    /// The weighting of the TfidfTransformer whose state is `state`, for `n_terms` terms
    /// when the caller knows how many.
    pub fn read(state: &State<'_>, n_terms: Option<usize>) -> Result<Self, LoadError> {
        let idf = if let Some(value) = state.attr("_idf_diag") {
            let diag = read_csr(state, "_idf_diag", value)?;
            let n = diag.n_cols();
            if diag.n_rows() != n {
                return Err(state.malformed("_idf_diag", "is not square"));
            }
            // `idf_` is the sum of each column: the diagonal.
            let mut idf = vec![0.0; n];
            for (j, v) in diag.indices().iter().zip(diag.values()) {
                idf[*j] += v;
            }
            Some(idf)
        } else if state.has("idf_") {
            let n = n_terms
                .or(state.count("n_features_in_")?)
                .map_or_else(|| state.numbers("idf_").map(|(v, _)| v.len()), Ok)?;
            Some(state.vector("idf_", n)?)
        } else if state.bool_or("use_idf", true)? {
            return Err(state.malformed(
                "idf_",
                "is missing though use_idf is true (was it fitted before saving?)",
            ));
        } else {
            None
        };
        if let Some(idf) = &idf {
            if let Some(n) = n_terms
                && idf.len() != n
            {
                return Err(
                    state.malformed("idf_", format!("has {} values for {n} terms", idf.len()))
                );
            }
            if let Some(i) = idf.iter().position(|v| !v.is_finite() || *v <= 0.0) {
                return Err(state.malformed(
                    &format!("idf_[{i}]"),
                    format!("is {}; an idf is at least 1", idf[i]),
                ));
            }
            state.check_n_features(idf.len(), "idf_")?;
        }
        Ok(Self {
            sublinear: state.bool_or("sublinear_tf", false)?,
            idf,
            norm: read_norm(state)?,
        })
    }

    /// Weighs `counts` in place; the matrix is float32 or float64 (`dtype`) already.
    pub fn apply(&self, counts: &mut Csr, dtype: Dtype) {
        if self.sublinear {
            for v in counts.values_mut() {
                *v = dtype.round(dtype.round(v.ln()) + 1.0);
            }
        }
        if let Some(idf) = &self.idf {
            counts.scale_columns(idf, dtype);
        }
        if let Some(norm) = self.norm {
            counts.normalize_rows(norm, dtype);
        }
    }
}

/// TfidfTransformer as a Pipeline's step.
#[derive(Clone, Debug)]
pub struct TfidfTransformer {
    label: String,
    n_features: usize,
    weighting: Weighting,
}

impl TfidfTransformer {
    pub fn read(state: &State<'_>, width: Option<usize>) -> Result<Self, LoadError> {
        let n_features = match (state.count("n_features_in_")?, width) {
            (Some(n), _) => n,
            (None, Some(w)) => w,
            (None, None) => state.numbers("idf_").map(|(v, _)| v.len())?,
        };
        let weighting = Weighting::read(state, Some(n_features))?;
        Ok(Self {
            label: state.label(),
            n_features,
            weighting,
        })
    }
}

impl Transformer for TfidfTransformer {
    fn class(&self) -> &'static str {
        SkClass::TfidfTransformer.name()
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
        let (mut values, dtype) = match data {
            Data::Sparse { values, dtype } => (values, dtype),
            dense => {
                let (x, dtype): (Array2<f64>, Dtype) = dense.into_numbers(&self.label)?;
                if let Some((row, feature)) = crate::model::estimator::first_not_finite(x.view()) {
                    return Err(Refusal {
                        row,
                        feature,
                        problem: crate::model::estimator::Problem::Missing {
                            step: self.label.clone(),
                        },
                    });
                }
                (Csr::from_dense(x.view()), dtype)
            }
        };
        let dtype = dtype.as_float();
        if dtype == Dtype::F32 {
            values
                .values_mut()
                .iter_mut()
                .for_each(|v| *v = dtype.round(*v));
        }
        self.weighting.apply(&mut values, dtype);
        Ok(Data::Sparse { values, dtype })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": self.class(),
            "n_features_in": input.len(),
            "use_idf": self.weighting.idf.is_some(),
            "sublinear_tf": self.weighting.sublinear,
            "norm": self.weighting.norm,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sublinear_idf_then_norm() {
        let w = Weighting {
            sublinear: true,
            idf: Some(vec![1.0, 2.0]),
            norm: Some(Norm::L1),
        };
        let mut m = Csr::from_dense(ndarray::array![[1.0, 1.0]].view());
        w.apply(&mut m, Dtype::F64);
        // 1 + log(1) = 1, weighted by idf: [1, 2], divided by 3.
        assert_eq!(m.values(), &[1.0 / 3.0, 2.0 / 3.0]);
    }
}
