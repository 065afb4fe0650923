//! LocallyLinearEmbedding's `transform`, as scikit-learn computes it, the same for every
//! `method` (standard, hessian, modified, ltsa: they differ only in how `embedding_` was
//! fitted): the new row's `n_neighbors` nearest training rows (`nbrs_.kneighbors`); their
//! barycentre weights (`barycenter_weights`: the local Gram matrix `C Cᵀ` of the
//! neighbours less the row, its diagonal raised by `reg × trace` — or `reg` when the trace
//! is 0 — solved against ones by a Cholesky factorisation as `scipy.linalg.solve(…,
//! assume_a="pos")` does, and divided by their sum); then those weights times the
//! neighbours' rows of `embedding_`.
//!
//! A Gram matrix that is not positive definite (`reg = 0` and a row that coincides with all
//! its neighbours) has no Cholesky factor: scikit-learn raises on it, skserve refuses the row
//! with the reason.
//!
//! What must not live here: the neighbour search (`model::neighbors`).

use ndarray::{Array1, Array2};

use super::embedding::{self, Embedded, Place, neighbours_count};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::decomposition::algebra::Positive;
use crate::model::estimator::{Problem, Refusal};
use crate::model::fitted;
use crate::model::neighbors::search::Search;
use crate::model::state::State;
use crate::model::tree::math::pairwise_sum;

#[derive(Clone, Debug, PartialEq)]
pub struct LocallyLinear {
    search: Search,
    n_neighbors: usize,
    reg: f64,
    /// `embedding_`: training rows × components.
    embedding: Array2<f64>,
}

pub fn read(state: &State<'_>) -> Result<Embedded<LocallyLinear>, LoadError> {
    let (search, _) = embedding::neighbours(state)?;
    let n = search.n_fit();
    let n_neighbors = neighbours_count(state, "n_neighbors", n)?;
    let reg = fitted::scalar(state, "reg")?;
    if reg < 0.0 {
        return Err(state.malformed("reg", format!("is {reg}, not a non-negative number")));
    }
    let embedding = embedding::embedding(state, n, None)?;
    Ok(Embedded {
        label: state.label(),
        place: LocallyLinear {
            search,
            n_neighbors,
            reg,
            embedding,
        },
    })
}

impl LocallyLinear {
    /// `barycenter_weights` of one row `x` over the training rows `neighbours`; `None` when
    /// the regularised Gram matrix is not positive definite.
    fn weights(&self, x: &[f64], neighbours: &[usize]) -> Option<Array1<f64>> {
        let k = neighbours.len();
        let fit = self.search.fit();
        let mut c = Array2::zeros((k, x.len()));
        for (mut row, &j) in c.rows_mut().into_iter().zip(neighbours) {
            for ((o, &a), &b) in row.iter_mut().zip(fit.row(j)).zip(x) {
                *o = a - b;
            }
        }
        let mut g = c.dot(&c.t());
        let trace = pairwise_sum(&g.diag().to_vec());
        let r = if trace > 0.0 {
            self.reg * trace
        } else {
            self.reg
        };
        g.diag_mut().mapv_inplace(|v| v + r);
        let w = Positive::factor(g.view())?.solve(Array2::ones((k, 1)).view());
        let w = w.column(0).to_owned();
        let total = pairwise_sum(w.as_slice()?);
        Some(w / total)
    }
}

impl Place for LocallyLinear {
    const CLASS: SkClass = SkClass::LocallyLinearEmbedding;

    fn search(&self) -> &Search {
        &self.search
    }

    fn n_components(&self) -> usize {
        self.embedding.ncols()
    }

    fn place(&self, x: &Array2<f64>, step: &str) -> Result<Array2<f64>, Refusal> {
        let found = self.search.kneighbors(x.view(), self.n_neighbors);
        let mut out = Array2::zeros((x.nrows(), self.embedding.ncols()));
        for (row, (neighbours, mut out)) in found.iter().zip(out.rows_mut()).enumerate() {
            let indices: Vec<usize> = neighbours.iter().map(|&(_, j)| j).collect();
            let x_row = x.row(row);
            let weights = self
                .weights(x_row.as_slice().expect("standard layout"), &indices)
                .ok_or_else(|| Refusal {
                    row,
                    feature: 0,
                    problem: Problem::NoAnswer {
                        step: step.to_owned(),
                        reason: "the Gram matrix of its neighbours, regularised by reg, is \
                                 not positive definite (scikit-learn raises on it)"
                            .into(),
                    },
                })?;
            let local = self.embedding.select(ndarray::Axis(0), &indices);
            out.assign(&local.t().dot(&weights));
        }
        Ok(out)
    }

    fn settings(&self) -> serde_json::Value {
        serde_json::json!({ "n_neighbors": self.n_neighbors, "reg": self.reg })
    }
}
