//! KNNImputer's `transform`, as scikit-learn computes it: each row with a missing value is
//! measured against the fitted rows by `nan_euclidean` distance (`model::pairwise`); for each
//! of its missing features, the `n_neighbors` nearest fitted rows that have the feature
//! (fewer if fewer have it) give their values, averaged with uniform or `1 / distance` weights
//! (a donor at distance 0 takes all the weight, a donor at NaN distance none). A row with no
//! coordinate in common with any donor takes the feature's fitted mean. Features that were
//! missing throughout training are dropped, or kept as 0 with `keep_empty_features`; then
//! come the MissingIndicator's columns (`add_indicator`).
//!
//! Of donors equally far at the k-th place, scikit-learn keeps the ones numpy's
//! `argpartition` leaves first; skserve keeps the lower indices. Both are valid neighbours;
//! the answers differ only when tied donors hold different values (docs/models.md).
//!
//! What must not live here: the distances themselves (`model::pairwise`).

use ndarray::{Array2, ArrayView1};

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::fitted;
use crate::model::input::ColumnKind;
use crate::model::neighbors::search::{FEW, nearest_few_of};
use crate::model::pairwise::NanFittedRows;
use crate::model::preprocessing::impute::{MissingIndicator, refuse_infinite};
use crate::model::state::{State, number_of};
use crate::model::tree::math::pairwise_sum;
use crate::model::value::Value;

/// Most fitted rows one model may hold: every row with a missing value is measured against
/// each.
pub const MAX_ROWS: usize = 1 << 22;

#[derive(Clone, Debug, PartialEq)]
pub struct KnnImputer {
    label: String,
    n_neighbors: usize,
    distance_weights: bool,
    /// `_fit_X`, NaN where missing.
    fit: Array2<f64>,
    /// `_fit_X` as distances to it are measured, made once at load.
    measured: NanFittedRows,
    /// Each feature's fitted mean, which a row without donors takes.
    means: Vec<f64>,
    /// Each feature's donors (the fitted rows that have it), made once at load.
    donors: Vec<Donors>,
    /// Features seen in training (`_valid_mask`).
    valid: Vec<bool>,
    keep_empty: bool,
    indicator: Option<MissingIndicator>,
}

/// The fitted rows that have a feature, by index, and their values of it.
#[derive(Clone, Debug, PartialEq)]
struct Donors {
    rows: Vec<usize>,
    values: Vec<f64>,
}

impl Donors {
    fn of(column: ArrayView1<'_, f64>) -> Self {
        let (rows, values) = column
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_nan())
            .map(|(i, &v)| (i, v))
            .unzip();
        Self { rows, values }
    }
}

pub fn read(state: &State<'_>) -> Result<KnnImputer, LoadError> {
    match state.attr("missing_values") {
        Some(Value::Float(v)) if v.is_nan() => {}
        None | Some(Value::None) => {}
        Some(v) => {
            let shown = number_of(state.heap, v)
                .map_or_else(|| "not a number".to_owned(), |n| n.to_string());
            if !number_of(state.heap, v).is_some_and(f64::is_nan) {
                return Err(state.unsupported(format!(
                    "missing_values is {shown}; skserve serves KNNImputer with \
                     missing_values=NaN, the client's missing value"
                )));
            }
        }
    }
    match state.text("metric") {
        Some("nan_euclidean") => {}
        Some(other) => {
            return Err(state.malformed("metric", format!("is {other:?}, not nan_euclidean")));
        }
        None => {
            return Err(state.unsupported(
                "metric is not nan_euclidean (a callable metric is code, which skserve never \
                 runs)",
            ));
        }
    }
    let distance_weights = match state.text("weights") {
        Some("uniform") => false,
        Some("distance") => true,
        Some(other) => {
            return Err(
                state.malformed("weights", format!("is {other:?}, not uniform or distance"))
            );
        }
        None => {
            return Err(state.unsupported(
                "weights is not uniform or distance (a callable is code, which skserve never \
                 runs)",
            ));
        }
    };
    let n_neighbors = fitted::count(state, "n_neighbors", 1)?;
    let (values, shape) = state.numbers("_fit_X")?;
    let [n, d] = shape[..] else {
        return Err(state.malformed("_fit_X", format!("has shape {shape:?}, not two dimensions")));
    };
    if n == 0 || d == 0 {
        return Err(state.malformed("_fit_X", format!("has shape [{n}, {d}]: no rows")));
    }
    if n > MAX_ROWS {
        return Err(state.malformed(
            "_fit_X",
            format!("holds {n} rows, more than the {MAX_ROWS} skserve imputes from"),
        ));
    }
    if let Some(i) = values.iter().position(|v| v.is_infinite()) {
        return Err(state.malformed(
            &format!("_fit_X[{}, {}]", i / d, i % d),
            format!("is {}, not a number or NaN", values[i]),
        ));
    }
    let fit = Array2::from_shape_vec((n, d), values).expect("the shape was checked");
    fitted::features(state, d, "_fit_X")?;
    let mask = fitted::bools(state, "_mask_fit_X")?;
    if mask.len() != n * d {
        return Err(state.malformed(
            "_mask_fit_X",
            format!("holds {} flags for {n} × {d} values", mask.len()),
        ));
    }
    if let Some(i) = mask
        .iter()
        .zip(fit.iter())
        .position(|(&m, v)| m != v.is_nan())
    {
        return Err(state.malformed(
            &format!("_mask_fit_X[{}, {}]", i / d, i % d),
            "disagrees with _fit_X about which values are missing",
        ));
    }
    let valid = fitted::bools(state, "_valid_mask")?;
    if valid.len() != d {
        return Err(state.malformed(
            "_valid_mask",
            format!("holds {} flags for {d} features", valid.len()),
        ));
    }
    for (j, &flag) in valid.iter().enumerate() {
        let seen = fit.column(j).iter().any(|v| !v.is_nan());
        if flag != seen {
            return Err(state.malformed(
                &format!("_valid_mask[{j}]"),
                "disagrees with _fit_X about whether the feature was ever present",
            ));
        }
    }
    let keep_empty = state.bool_or("keep_empty_features", false)?;
    let indicator = MissingIndicator::of_imputer(state, d)?;
    // Beyond the copies of `_fit_X` it always kept: each feature's donors, an index and a
    // value per present value.
    let present = fit.iter().filter(|v| !v.is_nan()).count();
    fitted::charge_derived(
        state,
        "_fit_X's present values as donors, feature by feature",
        present.saturating_mul(2 * size_of::<f64>()),
    )?;
    fitted::charge_derived(
        state,
        "_fit_X's missing values, feature by feature",
        NanFittedRows::lists_bytes(fit.view()),
    )?;
    Ok(KnnImputer {
        label: state.label(),
        n_neighbors,
        distance_weights,
        measured: NanFittedRows::new(fit.view()),
        means: fit
            .columns()
            .into_iter()
            .map(KnnImputer::fitted_mean)
            .collect(),
        donors: fit.columns().into_iter().map(Donors::of).collect(),
        fit,
        valid,
        keep_empty,
        indicator,
    })
}

impl KnnImputer {
    /// `_calc_impute`: the weighted mean of the `k` nearest donors' values. `dist` holds each
    /// donor's distance (NaN, positive, where it shares no coordinate with the row), `values`
    /// its value.
    fn impute(&self, dist: &[f64], values: &[f64], k: usize) -> f64 {
        // A strict order: by distance, NaN last (a positive NaN is above infinity in the total
        // order), ties by donor index; so the k first found by insertion or selection, then
        // sorted, are those of a full stable sort.
        let order: Vec<usize> = if k <= FEW {
            nearest_few_of(dist, k).iter().map(|&(_, i)| i).collect()
        } else {
            let mut order: Vec<usize> = (0..dist.len()).collect();
            let nearer = |a: &usize, b: &usize| dist[*a].total_cmp(&dist[*b]).then(a.cmp(b));
            if k < order.len() {
                order.select_nth_unstable_by(k, nearer);
                order.truncate(k);
            }
            order.sort_unstable_by(nearer);
            order
        };
        let donors: Vec<f64> = order.iter().map(|&i| dist[i]).collect();
        let weights: Vec<f64> = if self.distance_weights {
            if donors.contains(&0.0) {
                donors
                    .iter()
                    .map(|&d| f64::from(u8::from(d == 0.0)))
                    .collect()
            } else {
                donors
                    .iter()
                    .map(|&d| if d.is_nan() { 0.0 } else { 1.0 / d })
                    .collect()
            }
        } else {
            donors
                .iter()
                .map(|d| f64::from(u8::from(!d.is_nan())))
                .collect()
        };
        let weighted: Vec<f64> = order
            .iter()
            .zip(&weights)
            .map(|(&i, w)| values[i] * w)
            .collect();
        pairwise_sum(&weighted) / pairwise_sum(&weights)
    }

    /// The masked mean of a fitted feature (`np.ma.array(col, mask=missing).mean()`).
    fn fitted_mean(column: ArrayView1<'_, f64>) -> f64 {
        let filled: Vec<f64> = column
            .iter()
            .map(|v| if v.is_nan() { 0.0 } else { *v })
            .collect();
        let count = column.iter().filter(|v| !v.is_nan()).count();
        pairwise_sum(&filled) / count as f64
    }

    fn impute_rows(&self, x: &mut Array2<f64>) {
        let d = self.fit.ncols();
        let rows: Vec<usize> = (0..x.nrows())
            .filter(|&r| (0..d).any(|c| self.valid[c] && x[[r, c]].is_nan()))
            .collect();
        if rows.is_empty() {
            return;
        }
        let missing = x.select(ndarray::Axis(0), &rows);
        let distances = self.measured.distances(missing.view(), false);
        let mut dist = Vec::new();
        for c in (0..d).filter(|&c| self.valid[c]) {
            if missing.column(c).iter().all(|v| !v.is_nan()) {
                continue;
            }
            let donors = &self.donors[c];
            let k = self.n_neighbors.min(donors.rows.len());
            for (slot, &r) in rows.iter().enumerate() {
                if !missing[[slot, c]].is_nan() {
                    continue;
                }
                let row = distances.row(slot);
                let row = row.as_slice().expect("a new array is contiguous");
                dist.clear();
                dist.extend(donors.rows.iter().map(|&i| {
                    let d = row[i];
                    if d.is_nan() { f64::NAN } else { d }
                }));
                x[[r, c]] = if dist.iter().all(|v| v.is_nan()) {
                    self.means[c]
                } else {
                    self.impute(&dist, &donors.values, k)
                };
            }
        }
    }
}

impl Transformer for KnnImputer {
    fn class(&self) -> &'static str {
        SkClass::KnnImputer.name()
    }

    fn n_features_in(&self) -> usize {
        self.fit.ncols()
    }

    fn sources(&self) -> Vec<usize> {
        let mut out: Vec<usize> = (0..self.fit.ncols())
            .filter(|&c| self.keep_empty || self.valid[c])
            .collect();
        if let Some(indicator) = &self.indicator {
            out.extend(indicator.sources());
        }
        out
    }

    fn mixes_features(&self) -> bool {
        true
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        let mut out: Vec<String> = (0..self.fit.ncols())
            .filter(|&c| self.keep_empty || self.valid[c])
            .map(|c| input[c].clone())
            .collect();
        if let Some(indicator) = &self.indicator {
            out.extend(indicator.feature_names_out(input));
        }
        out
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.fit.ncols()]
    }

    fn fitted_missing(&self, feature: usize) -> Option<bool> {
        Some(self.fit.column(feature).iter().any(|v| v.is_nan()))
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let (mut x, dtype) = data.into_floats(&self.label)?;
        refuse_infinite(&x, &self.label, self.class())?;
        let mask = x.mapv(f64::is_nan);
        self.impute_rows(&mut x);
        let kept: Vec<usize> = (0..x.ncols())
            .filter(|&c| self.keep_empty || self.valid[c])
            .collect();
        let mut out = x.select(ndarray::Axis(1), &kept);
        for (k, &c) in kept.iter().enumerate() {
            if !self.valid[c] {
                out.column_mut(k).fill(0.0);
            }
        }
        out.mapv_inplace(|v| dtype.round(v));
        let imputed = Data::Numbers { values: out, dtype };
        MissingIndicator::after(self.indicator.as_ref(), imputed, &mask)
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": SkClass::KnnImputer.name(),
            "columns": input,
            "n_neighbors": self.n_neighbors,
            "weights": if self.distance_weights { "distance" } else { "uniform" },
            "n_fitted_rows": self.fit.nrows(),
            "add_indicator": self.indicator.is_some(),
        })
    }
}
