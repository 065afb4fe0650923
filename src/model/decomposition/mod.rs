//! Decomposition: the linear projections of `sklearn.decomposition` read from their fitted
//! state (PCA, IncrementalPCA, TruncatedSVD), each a [`Transformer`]. Their `transform` is a
//! matrix product with fitted components, so it is served exactly; the decompositions whose
//! `transform` runs an optimisation at predict time (NMF, MiniBatchNMF,
//! LatentDirichletAllocation, DictionaryLearning, MiniBatchDictionaryLearning,
//! SparseCoder) are refused at load with that reason.
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
    matches!(
        class,
        Pca | IncrementalPca
            | TruncatedSvd
            | Nmf
            | MiniBatchNmf
            | Lda
            | DictionaryLearning
            | MiniBatchDictionaryLearning
            | SparseCoder
    )
}

/// Reads the transformer whose state is `state`.
pub fn read(state: &State<'_>) -> Result<Box<dyn Transformer>, LoadError> {
    use SkClass::*;
    match state.class {
        Pca | IncrementalPca | TruncatedSvd => Ok(Box::new(projection::Projection::read(state)?)),
        Nmf
        | MiniBatchNmf
        | Lda
        | DictionaryLearning
        | MiniBatchDictionaryLearning
        | SparseCoder => Err(state.unsupported(format!(
            "{}.transform solves an optimisation problem for every row it is given \
             (iterations, tolerances and, for some, random restarts), so its answers cannot \
             be reproduced exactly outside scikit-learn; skserve does not serve it",
            state.class.name()
        ))),
        other => unreachable!("{other:?} is not a decomposition class"),
    }
}
