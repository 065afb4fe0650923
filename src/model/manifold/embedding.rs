//! What Isomap and LocallyLinearEmbedding share: the fitted NearestNeighbors `nbrs_` that
//! finds a new row's neighbours among the training rows (`model::neighbors`' search, with its
//! metrics and tie rules), the `embedding_` of those rows, the errors of the estimators they
//! hold, said as the embedding's own (`Isomap: in nbrs_, NearestNeighbors: _fit_X …`), and
//! the transformer around how each places a new row ([`Embedded`] over a [`Place`]).
//!
//! What must not live here: either estimator's `transform` (`isomap`, `locally_linear`).

use ndarray::Array2;

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::fitted;
use crate::model::input::{ColumnKind, Dtype};
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

/// How an embedding places new rows among its embedded training rows.
pub trait Place: std::fmt::Debug + Send + Sync {
    const CLASS: SkClass;
    /// The search over the training rows (`nbrs_`).
    fn search(&self) -> &Search;
    fn n_components(&self) -> usize;
    /// The embedding of the rows `x`; a row it has no answer for is refused, named `step`.
    fn place(&self, x: &Array2<f64>, step: &str) -> Result<Array2<f64>, Refusal>;
    /// The settings `inspect` shows besides the class, the columns and the search.
    fn settings(&self) -> serde_json::Value;
}

/// A fitted Isomap or LocallyLinearEmbedding, as a transformer.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedded<P> {
    pub label: String,
    pub place: P,
}

impl<P: Place> Transformer for Embedded<P> {
    fn class(&self) -> &'static str {
        P::CLASS.name()
    }

    fn n_features_in(&self) -> usize {
        self.place.search().n_features()
    }

    fn sources(&self) -> Vec<usize> {
        vec![0; self.place.n_components()]
    }

    fn mixes_features(&self) -> bool {
        true
    }

    /// `ClassNamePrefixFeaturesOutMixin`'s names: `isomap0`, `isomap1`, …
    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        let prefix = P::CLASS.name().to_lowercase();
        (0..self.place.n_components())
            .map(|k| format!("{prefix}{k}"))
            .collect()
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.n_features_in()]
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let x = fitted::floats(data, &self.label)?
            .as_standard_layout()
            .into_owned();
        Ok(Data::Numbers {
            values: self.place.place(&x, &self.label)?,
            dtype: Dtype::F64,
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        let mut out = serde_json::json!({
            "class": P::CLASS.name(),
            "columns": input,
            "n_components": self.place.n_components(),
            "search": self.place.search().describe(),
        });
        if let (Some(out), serde_json::Value::Object(settings)) =
            (out.as_object_mut(), self.place.settings())
        {
            out.extend(settings);
        }
        out
    }
}
