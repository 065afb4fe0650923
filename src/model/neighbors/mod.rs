//! Neighbours (sklearn.neighbors): KNeighbors and RadiusNeighbors classifiers and regressors
//! (`predictor.rs`), NearestCentroid (`centroid.rs`), LocalOutlierFactor with `novelty=True`
//! (`lof.rs`), the neighbour-graph transformers (`graph.rs`) and
//! NeighborhoodComponentsAnalysis (a linear projection). Every search is brute force over the
//! fitted points by the estimator's effective metric (`search.rs`; a few Euclidean neighbours in
//! one pass, `brute.rs`); a pickled KDTree or
//! BallTree is checked against those points, never followed (`tree.rs`).
//!
//! What must not live here: the distances themselves (`model::pairwise`).

mod brute;
mod centroid;
mod graph;
mod lof;
mod predictor;
pub mod search;
pub mod tree;

use super::LoadError;
use super::allow::SkClass;
use super::estimator::{Predictor, Transformer};
use super::fitted;
use super::projection::Projection;
use super::state::State;

/// The predictors this room reads.
pub fn reads(class: SkClass) -> bool {
    use SkClass::*;
    matches!(
        class,
        KNeighborsClassifier
            | KNeighborsRegressor
            | RadiusNeighborsClassifier
            | RadiusNeighborsRegressor
            | NearestCentroid
            | LocalOutlierFactor
    )
}

/// The transformers this room reads.
pub fn reads_transformer(class: SkClass) -> bool {
    use SkClass::*;
    matches!(
        class,
        KNeighborsTransformer | RadiusNeighborsTransformer | NeighborhoodComponentsAnalysis
    )
}

/// Reads one of the predictors of [`reads`].
pub fn read(state: &State<'_>) -> Result<Box<dyn Predictor>, LoadError> {
    Ok(match state.class {
        SkClass::NearestCentroid => Box::new(centroid::read(state)?),
        SkClass::LocalOutlierFactor => Box::new(lof::read(state)?),
        _ => Box::new(predictor::read(state)?),
    })
}

/// Reads one of the transformers of [`reads_transformer`].
pub fn read_transformer(state: &State<'_>) -> Result<Box<dyn Transformer>, LoadError> {
    Ok(match state.class {
        SkClass::NeighborhoodComponentsAnalysis => Box::new(read_nca(state)?),
        _ => Box::new(graph::read(state)?),
    })
}

/// NeighborhoodComponentsAnalysis: `X · components_ᵀ`.
fn read_nca(state: &State<'_>) -> Result<Projection, LoadError> {
    let components = fitted::matrix(state, "components_", None, None)?;
    fitted::features(state, components.ncols(), "components_")?;
    Ok(Projection {
        class: state.class.name(),
        label: state.label(),
        center: None,
        matrix: components.reversed_axes(),
        offset: None,
        logistic: false,
    })
}
