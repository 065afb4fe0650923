//! KNeighborsTransformer and RadiusNeighborsTransformer: each row's neighbour graph over the
//! fitted points, sparse as scikit-learn returns it (one column per fitted point): the
//! distance to each neighbour (`mode="distance"`, where the k-nearest one takes
//! `n_neighbors + 1` neighbours as scikit-learn does) or 1 (`connectivity`), nothing stored
//! elsewhere. A neighbour at distance 0 is stored, an explicit zero, as scikit-learn stores
//! it. Each row's neighbours are stored by column, where scikit-learn stores them nearest
//! first: a product with the row adds the same terms in another order.

use super::predictor::neighbours_count;
use super::search::Search;
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::fitted;
use crate::model::input::{ColumnKind, Dtype};
use crate::model::sparse::Csr;
use crate::model::state::State;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Query {
    Nearest(usize),
    Within(f64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct NeighboursGraph {
    class: SkClass,
    label: String,
    search: Search,
    query: Query,
    distance: bool,
}

pub fn read(state: &State<'_>) -> Result<NeighboursGraph, LoadError> {
    let search = Search::read(state)?;
    fitted::features(state, search.n_features(), "_fit_X")?;
    let distance = fitted::one_of(state, "mode", &["distance", "connectivity"])? == "distance";
    let query = if state.class == SkClass::KNeighborsTransformer {
        let k = neighbours_count(state, "n_neighbors", search.n_fit())?;
        let k = k + usize::from(distance);
        if k > search.n_fit() {
            return Err(state.malformed(
                "n_neighbors",
                format!(
                    "is {}, but distance mode takes one more neighbour than that of the {} fitted points",
                    k - 1,
                    search.n_fit()
                ),
            ));
        }
        Query::Nearest(k)
    } else {
        let r = fitted::scalar(state, "radius")?;
        if r < 0.0 {
            return Err(state.malformed("radius", format!("is {r}, not a distance")));
        }
        Query::Within(r)
    };
    Ok(NeighboursGraph {
        class: state.class,
        label: state.label(),
        search,
        query,
        distance,
    })
}

impl Transformer for NeighboursGraph {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.search.n_features()
    }

    /// Each output (a fitted point) is reached through every input; the first stands for them.
    fn sources(&self) -> Vec<usize> {
        vec![0; self.search.n_fit()]
    }

    fn mixes_features(&self) -> bool {
        true
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        let prefix = self.class.name().to_lowercase();
        (0..self.search.n_fit())
            .map(|i| format!("{prefix}{i}"))
            .collect()
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.n_features_in()]
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let x = fitted::floats(data, &self.label)?;
        let all = match self.query {
            Query::Nearest(k) => self.search.kneighbors(x.view(), k),
            Query::Within(r) => self.search.within(x.view(), r),
        };
        let stored = all.iter().map(Vec::len).sum();
        let mut values = Csr::with_capacity(self.search.n_fit(), all.len(), stored);
        let mut by_column = Vec::new();
        for neighbours in &all {
            by_column.clear();
            by_column.extend(neighbours.iter().map(|&(d, i)| (i, d)));
            by_column.sort_unstable_by_key(|&(i, _)| i);
            for &(i, d) in &by_column {
                values.push(i, if self.distance { d } else { 1.0 });
            }
            values.end_row();
        }
        Ok(Data::Sparse {
            values,
            dtype: Dtype::F64,
        })
    }

    fn describe(&self, _input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": self.class.name(),
            "n_features_in": self.n_features_in(),
            "n_features_out": self.search.n_fit(),
            "mode": if self.distance { "distance" } else { "connectivity" },
            "search": self.search.describe(),
        })
    }
}
