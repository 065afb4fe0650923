//! Estimators that answer new rows from the rows they were fitted on: KNNImputer
//! (`knn_impute`), KernelDensity (`density`), and FeatureAgglomeration, which pools the
//! features its fitted clustering grouped (`agglomeration`), and the manifold embeddings that
//! place a new row among the embedded training rows: Isomap (`isomap`) and
//! LocallyLinearEmbedding (`locally_linear`), with what they share (`embedding`).
//!
//! What must not live here: distances and neighbour searches (`model::pairwise`,
//! `model::neighbors`), the MissingIndicator an imputer adds (`model::preprocessing`).

mod agglomeration;
mod density;
mod embedding;
mod isomap;
mod knn_impute;
mod locally_linear;

use super::LoadError;
use super::allow::SkClass;
use super::compose::{Model, Step};
use super::state::State;

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    use SkClass::*;
    matches!(
        class,
        KnnImputer | KernelDensity | FeatureAgglomeration | Isomap | LocallyLinearEmbedding
    )
}

/// Reads the step whose state is `state`.
pub fn read(state: &State<'_>) -> Result<Step, LoadError> {
    Ok(match state.class {
        SkClass::KnnImputer => Step::Transformer(Box::new(knn_impute::read(state)?)),
        SkClass::FeatureAgglomeration => Step::Transformer(Box::new(agglomeration::read(state)?)),
        SkClass::Isomap => Step::Transformer(Box::new(isomap::read(state)?)),
        SkClass::LocallyLinearEmbedding => {
            Step::Transformer(Box::new(locally_linear::read(state)?))
        }
        SkClass::KernelDensity => Step::Model(Model {
            transformers: Vec::new(),
            predictor: Box::new(density::read(state)?),
            wrappers: Vec::new(),
        }),
        other => unreachable!("{other:?} is not read here"),
    })
}
