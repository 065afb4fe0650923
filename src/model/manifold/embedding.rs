//! What Isomap and LocallyLinearEmbedding share: the fitted NearestNeighbors `nbrs_` that
//! finds a new row's neighbours among the training rows (`model::neighbors`' search, with its
//! metrics and tie rules), the `embedding_` of those rows, and the errors of the estimators
//! they hold, said as the embedding's own (`Isomap: in nbrs_, NearestNeighbors: _fit_X …`).
//!
//! What must not live here: either estimator's `transform` (`isomap`, `locally_linear`).

use ndarray::Array2;

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::fitted;
use crate::model::neighbors::search::Search;
use crate::model::state::{Path, State};

/// `error` of the estimator held at `attr`, said as `state`'s.
pub fn held(state: &State<'_>, attr: &str, error: LoadError) -> LoadError {
    let said = |m: String| format!("{}: in {attr}, {m}", state.label());
    match error {
        LoadError::Malformed(m) => LoadError::Malformed(said(m)),
        LoadError::Unsupported(m) => LoadError::Unsupported(said(m)),
        other => other,
    }
}

/// The fitted estimator of class `class` at `attr`.
pub fn inner<'h>(state: &State<'h>, attr: &str, class: SkClass) -> Result<State<'h>, LoadError> {
    let inner = State::of(state.heap, state.get(attr)?, &Path::default())
        .map_err(|e| held(state, attr, e))?;
    if inner.class != class {
        return Err(state.malformed(
            attr,
            format!("is {}, not a {}", inner.class.name(), class.name()),
        ));
    }
    Ok(inner)
}

/// `nbrs_`: its search over the training rows, and its state (for its settings).
pub fn neighbours<'h>(state: &State<'h>) -> Result<(Search, State<'h>), LoadError> {
    let nbrs = inner(state, "nbrs_", SkClass::NearestNeighbors)?;
    let search = Search::read(&nbrs).map_err(|e| held(state, "nbrs_", e))?;
    fitted::features(state, search.n_features(), "nbrs_")?;
    Ok((search, nbrs))
}

/// A count setting of `state` in `1..=n`, the number of training rows.
pub fn neighbours_count(state: &State<'_>, name: &str, n: usize) -> Result<usize, LoadError> {
    match state.count(name)? {
        Some(k) if (1..=n).contains(&k) => Ok(k),
        Some(k) => Err(state.malformed(name, format!("is {k}, but there are {n} training rows"))),
        None => Err(state.malformed(name, "is missing")),
    }
}

/// `embedding_`: one finite row per training row, `components` columns when the rest of
/// the state says how many.
pub fn embedding(
    state: &State<'_>,
    n: usize,
    components: Option<usize>,
) -> Result<Array2<f64>, LoadError> {
    let embedding = fitted::matrix(state, "embedding_", None, components)?;
    if embedding.nrows() != n {
        return Err(state.malformed(
            "embedding_",
            format!(
                "has {} rows, but nbrs_ was fitted on {n} training rows",
                embedding.nrows()
            ),
        ));
    }
    if embedding.ncols() == 0 {
        return Err(state.malformed("embedding_", "has no components"));
    }
    if let Some(stated) = state.count("n_components")?
        && stated != embedding.ncols()
    {
        return Err(state.malformed(
            "embedding_",
            format!(
                "has {} components, but n_components is {stated}",
                embedding.ncols()
            ),
        ));
    }
    Ok(embedding)
}
