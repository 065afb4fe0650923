//! Isomap's `transform`, as scikit-learn computes it: the new row's neighbours among the
//! training rows (`nbrs_.kneighbors`, or `radius_neighbors` for an Isomap fitted with a
//! radius), each with its distance; the row's geodesic distance to every training row
//! `c`, `G[c] = min over the neighbours j of (dist_matrix_[j, c] + d(x, j))`; then
//! `G **= 2; G *= -0.5` and the fitted precomputed-kernel KernelPCA's `transform` of it
//! (`kernel_pca_`: its centring and scaled eigenvectors). Every step is the same operation
//! in the same order as scikit-learn's, so only the final product's summation order differs.
//!
//! A row with no training row within the radius has no geodesic distance: scikit-learn
//! raises on it (a minimum of nothing), skserve refuses it naming the radius.
//!
//! What must not live here: the neighbour search (`model::neighbors`), the kernel's
//! centring (`model::decomposition::kernel_pca`).

use ndarray::{Array2, ArrayView2, Axis};

use super::embedding::{self, Embedded, Place, held, inner, neighbours_count};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::decomposition::kernel_pca::{self, Centred};
use crate::model::estimator::{Problem, Refusal};
use crate::model::fitted;
use crate::model::neighbors::search::Search;
use crate::model::pairwise::ROWS_AT_ONCE;
use crate::model::simd::wide;
use crate::model::state::State;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Query {
    Nearest(usize),
    Within(f64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Isomap {
    search: Search,
    query: Query,
    /// `dist_matrix_`: the geodesic distances between the training rows.
    geodesic: Array2<f64>,
    kernel: Centred,
}

pub fn read(state: &State<'_>) -> Result<Embedded<Isomap>, LoadError> {
    let (search, nbrs) = embedding::neighbours(state)?;
    let n = search.n_fit();
    let query = match state.number("n_neighbors")? {
        Some(_) => {
            let k = neighbours_count(state, "n_neighbors", n)?;
            let searched =
                neighbours_count(&nbrs, "n_neighbors", n).map_err(|e| held(state, "nbrs_", e))?;
            if searched != k {
                return Err(state.malformed(
                    "n_neighbors",
                    format!("is {k}, but nbrs_ searches for {searched}"),
                ));
            }
            Query::Nearest(k)
        }
        None => {
            let r = fitted::scalar(state, "radius")?;
            if r < 0.0 {
                return Err(state.malformed("radius", format!("is {r}, not a distance")));
            }
            let searched = fitted::scalar(&nbrs, "radius").map_err(|e| held(state, "nbrs_", e))?;
            if searched.to_bits() != r.to_bits() {
                return Err(state.malformed(
                    "radius",
                    format!("is {r}, but nbrs_ searches within {searched}"),
                ));
            }
            Query::Within(r)
        }
    };
    let geodesic = fitted::matrix(state, "dist_matrix_", None, None)?;
    if geodesic.dim() != (n, n) {
        return Err(state.malformed(
            "dist_matrix_",
            format!(
                "has shape {:?}, but nbrs_ was fitted on {n} training rows",
                geodesic.shape()
            ),
        ));
    }
    if let Some(((i, j), v)) = geodesic.indexed_iter().find(|(_, v)| **v < 0.0) {
        return Err(state.malformed(
            &format!("dist_matrix_[{i}, {j}]"),
            format!("is {v}, not a distance"),
        ));
    }
    let kernel_state = inner(state, "kernel_pca_", SkClass::KernelPca)?;
    let kernel = kernel_pca::read_precomputed(&kernel_state, n)
        .map_err(|e| held(state, "kernel_pca_", e))?;
    embedding::embedding(state, n, Some(kernel.n_components()))?;
    Ok(Embedded {
        label: state.label(),
        place: Isomap {
            search,
            query,
            geodesic,
            kernel,
        },
    })
}

impl Isomap {
    /// Each row's squared geodesic distances times −0.5, the kernel rows KernelPCA takes.
    /// `first` is the index of `x`'s first row in the request, for a refusal's row.
    fn kernel_rows(
        &self,
        x: ArrayView2<'_, f64>,
        first: usize,
        step: &str,
    ) -> Result<Array2<f64>, Refusal> {
        let found = match self.query {
            Query::Nearest(k) => self.search.kneighbors(x, k),
            Query::Within(r) => self.search.within(x, r),
        };
        let mut g = Array2::from_elem((x.nrows(), self.search.n_fit()), f64::INFINITY);
        for (row, (neighbours, mut out)) in found.iter().zip(g.rows_mut()).enumerate() {
            if neighbours.is_empty() {
                let Query::Within(r) = self.query else {
                    unreachable!("a k-nearest search finds at least one row")
                };
                return Err(Refusal {
                    row: first + row,
                    feature: 0,
                    problem: Problem::NoAnswer {
                        step: step.to_owned(),
                        reason: format!(
                            "no training row lies within radius {r}, so the row has no \
                             geodesic distance (scikit-learn raises on it)"
                        ),
                    },
                });
            }
            let out = out.as_slice_mut().expect("a new array is contiguous");
            for &(d, j) in neighbours {
                let paths = self.geodesic.row(j);
                let paths = paths.as_slice().expect("a fitted matrix is contiguous");
                wide(
                    #[inline(always)]
                    || {
                        for (o, &path) in out.iter_mut().zip(paths) {
                            let through = path + d;
                            if through < *o {
                                *o = through;
                            }
                        }
                    },
                );
            }
        }
        g.mapv_inplace(|v| v * v * -0.5);
        Ok(g)
    }
}

impl Place for Isomap {
    const CLASS: SkClass = SkClass::Isomap;

    fn search(&self) -> &Search {
        &self.search
    }

    fn n_components(&self) -> usize {
        self.kernel.n_components()
    }

    fn place(&self, x: &Array2<f64>, step: &str) -> Result<Array2<f64>, Refusal> {
        // A block of rows at a time: its geodesic rows (against every training row) stay in
        // cache between the search, the centring and the product that read them.
        let mut out = Array2::zeros((x.nrows(), self.kernel.n_components()));
        for (b, (rows, mut o)) in x
            .axis_chunks_iter(Axis(0), ROWS_AT_ONCE)
            .zip(out.axis_chunks_iter_mut(Axis(0), ROWS_AT_ONCE))
            .enumerate()
        {
            let k = self.kernel_rows(rows, b * ROWS_AT_ONCE, step)?;
            o.assign(&self.kernel.project(k));
        }
        Ok(out)
    }

    fn settings(&self) -> serde_json::Value {
        match self.query {
            Query::Nearest(k) => serde_json::json!({ "n_neighbors": k }),
            Query::Within(r) => serde_json::json!({ "radius": r }),
        }
    }
}
