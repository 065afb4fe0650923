//! Decomposition: the projections of `sklearn.decomposition` read from their fitted state,
//! each a [`Transformer`] (PCA, IncrementalPCA, TruncatedSVD, FastICA, KernelPCA,
//! FactorAnalysis, SparsePCA, MiniBatchSparsePCA). Their `transform` is a closed form of
//! fitted arrays (a product, a kernel, a ridge solve), so it is served exactly. PCA and
//! FactorAnalysis are also Gaussian models and answer `score_samples`; alone or last in a
//! Pipeline they are a model of both outputs, elsewhere their transformer. The
//! decompositions whose `transform` runs an optimisation at predict time (NMF,
//! LatentDirichletAllocation, dictionary learning) are not read here: the catalog refuses
//! them with the reason.
//!
//! # Layout
//! - `projection`: `(X - mean_) @ components_.T`, whitened or not (PCA, IncrementalPCA,
//!   TruncatedSVD, FastICA).
//! - `likelihood`: `score_samples` from `get_precision()`, and the model of both outputs.
//! - `factor`: FactorAnalysis's posterior mean of the factors.
//! - `kernel_pca`: KernelPCA through the pairwise kernels.
//! - `sparse_pca`: SparsePCA's and MiniBatchSparsePCA's ridge solve.
//! - `algebra`: inverses, log-determinants and Cholesky solves (faer).

pub mod algebra;
pub mod factor;
pub mod kernel_pca;
pub mod likelihood;
pub mod projection;
pub mod sparse_pca;

use super::LoadError;
use super::allow::SkClass;
use super::compose::{Model, Step};
use likelihood::{Gaussian, Scored};

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    use SkClass::*;
    matches!(
        class,
        Pca | IncrementalPca
            | TruncatedSvd
            | FastIca
            | KernelPca
            | FactorAnalysis
            | SparsePca
            | MiniBatchSparsePca
    )
}

/// Reads the step whose state is `state`.
pub fn read(state: &super::state::State<'_>) -> Result<Step, LoadError> {
    Ok(match state.class {
        SkClass::Pca => {
            let projection = projection::Projection::read(state)?;
            let (components, mean) = projection.components_and_mean();
            let precision =
                likelihood::pca_precision(state, components.view(), projection.whitens())?;
            scored(Scored {
                n_components: projection.n_components(),
                transformer: projection,
                gaussian: Gaussian::new(mean, precision),
            })
        }
        SkClass::FactorAnalysis => scored(factor::read(state)?),
        SkClass::KernelPca => Step::Transformer(Box::new(kernel_pca::read(state)?)),
        SkClass::SparsePca | SkClass::MiniBatchSparsePca => {
            Step::Transformer(Box::new(sparse_pca::read(state)?))
        }
        _ => Step::Transformer(Box::new(projection::Projection::read(state)?)),
    })
}

fn scored<T: super::estimator::Transformer + Clone + 'static>(scored: Scored<T>) -> Step {
    Step::Model(Model::alone(Box::new(scored)))
}
