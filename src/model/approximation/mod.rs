//! Random projections and kernel approximation: the transformers of
//! `sklearn.random_projection` and `sklearn.kernel_approximation`, read from their fitted
//! state, every array checked at load. Their `transform` is a product with fitted random
//! matrices (or, for Nystroem, a kernel against fitted rows), so it is served exactly.
//!
//! What must not live here: kernels and distances (`crate::model::pairwise` computes them as
//! scikit-learn does) and sparse matrix storage (`crate::model::sparse`).
//!
//! # Layout
//! - `random`: GaussianRandomProjection and SparseRandomProjection (`X @ components_.T`).
//! - `nystroem`: Nystroem (`kernel(X, components_) @ normalization_.T`).
//! - `fourier`: RBFSampler, SkewedChi2Sampler (random Fourier features) and
//!   AdditiveChi2Sampler (sampled Fourier transform of each feature).
//! - `sketch`: PolynomialCountSketch (count sketches multiplied as circular convolutions).

pub mod fourier;
pub mod nystroem;
pub mod random;
pub mod sketch;

use ndarray::Array2;

use super::LoadError;
use super::allow::SkClass;
use super::estimator::{Data, Problem, Refusal, Transformer};
use super::fitted;
use super::input::Dtype;
use super::sparse::Csr;
use super::state::State;

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    use SkClass::*;
    matches!(
        class,
        GaussianRandomProjection
            | SparseRandomProjection
            | Nystroem
            | RbfSampler
            | SkewedChi2Sampler
            | AdditiveChi2Sampler
            | PolynomialCountSketch
    )
}

/// Reads the transformer whose state is `state`.
pub fn read(state: &State<'_>) -> Result<Box<dyn Transformer>, LoadError> {
    use SkClass::*;
    Ok(match state.class {
        GaussianRandomProjection | SparseRandomProjection => {
            Box::new(random::RandomProjection::read(state)?)
        }
        Nystroem => Box::new(nystroem::Nystroem::read(state)?),
        RbfSampler | SkewedChi2Sampler => Box::new(fourier::RandomFourier::read(state)?),
        AdditiveChi2Sampler => Box::new(fourier::AdditiveChi2::read(state)?),
        _ => Box::new(sketch::CountSketch::read(state)?),
    })
}

/// A step's input as scikit-learn's `check_array(accept_sparse=...)` gives it: sparse rows
/// kept sparse, anything else as float rows; a missing value refused at its row and feature.
enum Rows {
    Dense(Array2<f64>),
    Sparse(Csr),
}

impl Rows {
    fn of(data: Data, step: &str) -> Result<Self, Refusal> {
        match data {
            Data::Sparse { values, .. } => match values.first_not_finite() {
                Some((row, feature, _)) => Err(missing(row, feature, step)),
                None => Ok(Self::Sparse(values)),
            },
            data => Ok(Self::Dense(fitted::floats(data, step)?)),
        }
    }
}

fn missing(row: usize, feature: usize, step: &str) -> Refusal {
    Refusal {
        row,
        feature,
        problem: Problem::Missing {
            step: step.to_owned(),
        },
    }
}

/// A row scikit-learn raises on, with its reason.
fn no_answer(row: usize, feature: usize, step: &str, reason: &str) -> Refusal {
    Refusal {
        row,
        feature,
        problem: Problem::NoAnswer {
            step: step.to_owned(),
            reason: reason.to_owned(),
        },
    }
}

/// Dense float64 output.
fn numbers(values: Array2<f64>) -> Data {
    Data::Numbers {
        values,
        dtype: Dtype::F64,
    }
}

/// Sparse rows times dense weights (`n_out` rows of the input's width, flat): scipy's
/// `csr @ dense`, each sum over the row's stored values in order. The output is dense.
fn sparse_dot(x: &Csr, weights: &[f64], n_out: usize) -> Array2<f64> {
    let mut out = Array2::zeros((x.n_rows(), n_out));
    for (i, mut row) in out.rows_mut().into_iter().enumerate() {
        x.row_dot(
            i,
            weights,
            row.as_slice_mut().expect("a standard layout row"),
        );
    }
    out
}

/// `classname0`, `classname1`, …: how scikit-learn names the outputs of a step whose every
/// output mixes every input.
fn prefixed_names(class: SkClass, n: usize) -> Vec<String> {
    let prefix = class.name().to_lowercase();
    (0..n).map(|k| format!("{prefix}{k}")).collect()
}

/// A fitted `n_components` count, when stored, must be the number of outputs the arrays imply.
fn check_components(state: &State<'_>, name: &str, n: usize, what: &str) -> Result<(), LoadError> {
    match state.count(name)? {
        Some(stored) if stored != n => {
            Err(state.malformed(name, format!("is {stored} but {what} gives {n} outputs")))
        }
        _ => Ok(()),
    }
}
