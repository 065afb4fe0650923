//! Kernel models: KernelRidge (`pairwise_kernels` by name, or a Gaussian process kernel), and
//! GaussianProcessRegressor (`predict`, and `predict_std` for `return_std=True`) and
//! GaussianProcessClassifier (binary, one-vs-rest and one-vs-one), read from their training
//! rows, weights, Cholesky factors and fitted kernels, every shape checked against the others.
//!
//! # Layout
//! - `kernels`: the kernels of `sklearn.gaussian_process.kernels`, and the triangular solve.
//! - `regressor`: GaussianProcessRegressor.
//! - `classifier`: GaussianProcessClassifier and its binary Laplace approximations.
//! - `ridge`: KernelRidge.
//!
//! What must not live here: the kernels of `pairwise_kernels` themselves
//! (`crate::model::pairwise`).

pub mod classifier;
pub mod kernels;
pub mod regressor;
pub mod ridge;

use super::LoadError;
use super::allow::SkClass;
use super::compose::{Model, Step};
use super::estimator::Predictor;
use super::state::State;

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    matches!(
        class,
        SkClass::KernelRidge
            | SkClass::GaussianProcessRegressor
            | SkClass::GaussianProcessClassifier
    )
}

/// Reads the model whose state is `state`.
pub fn read(state: &State<'_>) -> Result<Step, LoadError> {
    let predictor: Box<dyn Predictor> = match state.class {
        SkClass::KernelRidge => Box::new(ridge::read(state)?),
        SkClass::GaussianProcessRegressor => Box::new(regressor::read(state)?),
        _ => Box::new(classifier::read(state)?),
    };
    Ok(Step::Model(Model {
        transformers: Vec::new(),
        predictor,
        wrappers: Vec::new(),
    }))
}
