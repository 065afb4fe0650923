//! Decomposition: the linear projections of `sklearn.decomposition` read from their fitted
//! state (PCA, IncrementalPCA, TruncatedSVD), each a [`Transformer`]. Their `transform` is a
//! matrix product with fitted components, so it is served exactly. The decompositions whose
//! `transform` runs an optimisation at predict time (NMF, LatentDirichletAllocation,
//! dictionary learning) are not read here: the catalog refuses them with the reason.
//!
//! # Layout
//! - `projection`: `(X - mean_) @ components_.T`, whitened or not.

pub mod projection;

use super::LoadError;
use super::allow::SkClass;
use super::estimator::Transformer;
use super::state::State;

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    use SkClass::*;
    matches!(class, Pca | IncrementalPca | TruncatedSvd)
}

/// Reads the transformer whose state is `state`.
pub fn read(state: &State<'_>) -> Result<Box<dyn Transformer>, LoadError> {
    Ok(Box::new(projection::Projection::read(state)?))
}
