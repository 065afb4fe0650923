//! IterativeImputer (`sklearn.experimental.enable_iterative_imputer`), read from its fitted
//! state: the initial SimpleImputer (`initial_imputer_`), the imputation sequence it replays
//! (`imputation_sequence_`, one `_ImputerTriplet` of a feature, the features it reads and a
//! fitted estimator per step, `n_iter_` rounds of `n_features_with_missing_` steps), the
//! bounds each imputed value is clipped to (`_min_value`, `_max_value`), which features were
//! never seen in training (`_is_empty_feature`, 1.4+), and the MissingIndicator it adds.
//! `replay` answers `transform` with them.
//!
//! The estimators are any regressor the catalog serves, read through its [`StepReader`]
//! (BayesianRidge by default; Ridge, a tree, a forest, neighbours, a Pipeline ending in a
//! regressor), never named here. `sample_posterior=True` is refused: its `transform` draws
//! each imputed value at random.
//!
//! What must not live here: the SimpleImputer and MissingIndicator (`model::preprocessing`),
//! any estimator's arithmetic (its own room's).

mod replay;

pub use replay::IterativeImputer;
use replay::{Limits, Triplet};

use super::LoadError;
use super::allow::{Callable, SkClass};
use super::compose::{Step, StepReader};
use super::estimator::{Target, Transformer};
use super::fitted;
use super::preprocessing::impute::{MissingIndicator, SimpleImputer, marks_nan};
use super::state::{State, describe, number_of, numbers_of};
use super::value::{Node, Object, Value};

/// Why `sample_posterior=True` is refused.
const SAMPLES_AT_RANDOM: &str = "sample_posterior=True is not served: its transform draws each \
     imputed value at random from the estimator's predictive distribution, so no two answers \
     are the same; skserve serves IterativeImputer with sample_posterior=False";

/// The orders a fitted imputer may have visited its features in (only described: the
/// sequence is what is replayed).
const ORDERS: &[&str] = &["ascending", "descending", "roman", "arabic", "random"];

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    class == SkClass::IterativeImputer
}

/// Reads the IterativeImputer whose state is `state`, its estimators through `reader`.
pub fn read(state: &State<'_>, reader: &dyn StepReader) -> Result<Box<dyn Transformer>, LoadError> {
    if !marks_nan(state)? {
        return Err(state.unsupported(
            "missing_values is not NaN; skserve serves IterativeImputer with \
             missing_values=NaN, the client's missing value",
        ));
    }
    if state.bool_or("sample_posterior", false)? {
        return Err(state.unsupported(SAMPLES_AT_RANDOM));
    }
    let initial = read_initial(state)?;
    let n_features = initial.n_features_in();
    fitted::features(state, n_features, "initial_imputer_")?;
    let kept = initial.kept().to_vec();
    let width = kept.len();
    let keep_empty = state.bool_or("keep_empty_features", false)?;
    let (empty, mask_all) = empty_features(state, &kept, n_features, keep_empty)?;
    let n_iter = fitted::count(state, "n_iter_", 0)?;
    let items = state.items("imputation_sequence_")?;
    let per_round = if n_iter == 0 {
        if !items.is_empty() {
            return Err(state.malformed(
                "imputation_sequence_",
                format!("holds {} steps but n_iter_ is 0", items.len()),
            ));
        }
        0
    } else {
        // 0 when `skip_complete` found no feature missing in training: rounds of nothing.
        let per_round = fitted::count(state, "n_features_with_missing_", 0)?;
        if per_round > width {
            return Err(state.malformed(
                "n_features_with_missing_",
                format!("is {per_round}, but {width} features are imputed"),
            ));
        }
        if n_iter.checked_mul(per_round) != Some(items.len()) {
            return Err(state.malformed(
                "n_iter_",
                format!(
                    "is {n_iter} rounds of {per_round} features, but imputation_sequence_ \
                     holds {} steps",
                    items.len()
                ),
            ));
        }
        per_round
    };
    let limits = if n_iter == 0 {
        Limits::none(width)
    } else {
        read_limits(state, width)?
    };
    let mut sequence = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        sequence.push(read_triplet(state, reader, *item, i, width)?);
    }
    for (round, steps) in sequence.chunks(per_round.max(1)).enumerate() {
        let mut seen = vec![false; width];
        for (k, step) in steps.iter().enumerate() {
            if std::mem::replace(&mut seen[step.feature], true) {
                return Err(state.malformed(
                    &format!("imputation_sequence_[{}].feat_idx", round * per_round + k),
                    format!("imputes feature {} twice in round {round}", step.feature),
                ));
            }
        }
    }
    Ok(Box::new(IterativeImputer {
        label: state.label(),
        n_features,
        initial,
        kept,
        empty,
        mask_all,
        n_iter,
        sequence,
        limits,
        indicator: MissingIndicator::of_imputer(state, n_features)?,
        order: fitted::one_of(state, "imputation_order", ORDERS)?.to_owned(),
        skip_complete: state.bool_or("skip_complete", false)?,
    }))
}

/// `initial_imputer_`: the SimpleImputer fitted first, filling numbers at NaN.
fn read_initial(state: &State<'_>) -> Result<SimpleImputer, LoadError> {
    let value = state.get("initial_imputer_")?;
    let inner = State::of(state.heap, value, &state.path.join("initial_imputer_"))?;
    if inner.class != SkClass::SimpleImputer {
        return Err(state.malformed(
            "initial_imputer_",
            format!("is {}, not a SimpleImputer", inner.class.name()),
        ));
    }
    let initial = SimpleImputer::read(&inner)?;
    if !initial.fills_numbers_at_nan() {
        return Err(state.malformed(
            "initial_imputer_",
            "is not the SimpleImputer an IterativeImputer fits (numbers filled at NaN, no \
             indicator)",
        ));
    }
    Ok(initial)
}

/// For each imputed feature, whether it was never seen in training and is kept as its initial
/// imputation (1.4+ with `keep_empty_features`); and whether every feature counts as missing
/// (1.2 and 1.3 with `keep_empty_features`, whose fit then imputed nothing more).
fn empty_features(
    state: &State<'_>,
    kept: &[usize],
    n_features: usize,
    keep_empty: bool,
) -> Result<(Vec<bool>, bool), LoadError> {
    if !state.has("_is_empty_feature") {
        return Ok((vec![false; kept.len()], keep_empty));
    }
    let flags = fitted::bools(state, "_is_empty_feature")?;
    if flags.len() != n_features {
        return Err(state.malformed(
            "_is_empty_feature",
            format!("holds {} flags for {n_features} features", flags.len()),
        ));
    }
    let imputed: Vec<usize> = (0..n_features)
        .filter(|&j| keep_empty || !flags[j])
        .collect();
    if imputed != kept {
        return Err(state.malformed(
            "_is_empty_feature",
            "disagrees with initial_imputer_ about which features were never seen",
        ));
    }
    Ok(if keep_empty {
        (flags, false)
    } else {
        (vec![false; kept.len()], false)
    })
}

/// `_min_value` and `_max_value`: one bound per imputed feature (infinite where unbounded),
/// the lower below the upper.
fn read_limits(state: &State<'_>, width: usize) -> Result<Limits, LoadError> {
    let bound = |name: &str| -> Result<Vec<f64>, LoadError> {
        let (values, shape) = state.numbers(name)?;
        if shape != [width] {
            return Err(state.malformed(
                name,
                format!("has shape {shape:?}, expected [{width}] (one bound per feature)"),
            ));
        }
        if let Some(i) = values.iter().position(|v| v.is_nan()) {
            return Err(state.malformed(&format!("{name}[{i}]"), "is NaN, not a bound"));
        }
        Ok(values)
    };
    let (min, max) = (bound("_min_value")?, bound("_max_value")?);
    if let Some(j) = (0..width).find(|&j| min[j] >= max[j]) {
        return Err(state.malformed(
            &format!("_max_value[{j}]"),
            format!("is {}, not above _min_value[{j}] = {}", max[j], min[j]),
        ));
    }
    Ok(Limits { min, max })
}

/// One `_ImputerTriplet` of the sequence: the feature (of `width` imputed), the features its
/// estimator reads, and the estimator, a regressor of one output taking those features.
fn read_triplet(
    state: &State<'_>,
    reader: &dyn StepReader,
    value: Value,
    index: usize,
    width: usize,
) -> Result<Triplet, LoadError> {
    let at = format!("imputation_sequence_[{index}]");
    let fields = match state.heap.node(value) {
        Some(Node::Object(Object {
            class: Callable::Class(SkClass::ImputerTriplet),
            args,
            ..
        })) => state.heap.tuple(*args),
        _ => None,
    };
    let Some(&[feature, neighbours, estimator]) = fields else {
        return Err(state.malformed(
            &at,
            format!(
                "is {}, not an _ImputerTriplet of a feature, its neighbours and an estimator",
                describe(state.heap, value)
            ),
        ));
    };
    let index_below = |v: f64| v.fract() == 0.0 && v >= 0.0 && v < width as f64;
    let feature = match number_of(state.heap, feature) {
        Some(f) if index_below(f) => f as usize,
        _ => {
            return Err(state.malformed(
                &format!("{at}.feat_idx"),
                format!(
                    "is {}, not one of the {width} imputed features",
                    describe(state.heap, feature)
                ),
            ));
        }
    };
    let neighbours_at = format!("{at}.neighbor_feat_idx");
    let (values, shape) = numbers_of(state.heap, neighbours)
        .filter(|(_, shape)| shape.len() == 1)
        .ok_or_else(|| state.malformed(&neighbours_at, "is not a vector of feature indices"))?;
    let mut seen = vec![false; width];
    let mut columns = Vec::with_capacity(shape[0]);
    for (i, &v) in values.iter().enumerate() {
        if !index_below(v)
            || v as usize == feature
            || std::mem::replace(&mut seen[v as usize], true)
        {
            return Err(state.malformed(
                &format!("{neighbours_at}[{i}]"),
                format!(
                    "is {v}: the features an estimator reads are distinct imputed features \
                     (of {width}) other than the one it imputes ({feature})"
                ),
            ));
        }
        columns.push(v as usize);
    }
    let estimator_at = format!("{at}.estimator");
    let model = match reader.read(estimator, &state.path.join(&at), Some(columns.len())) {
        Ok(Step::Model(model)) => model,
        Ok(Step::Transformer(t)) => {
            return Err(state.malformed(
                &estimator_at,
                format!("is {}, which only transforms, not a regressor", t.class()),
            ));
        }
        Ok(Step::Passthrough | Step::Drop) => {
            return Err(state.malformed(&estimator_at, "is not an estimator"));
        }
        Err(error) => return Err(within(state, &estimator_at, error)),
    };
    let class = model.predictor.class();
    let takes = model
        .transformers
        .first()
        .map_or(model.predictor.n_features_in(), |(_, t)| t.n_features_in());
    if takes != columns.len() {
        return Err(state.malformed(
            &estimator_at,
            format!(
                "({class}) takes {takes} features, but neighbor_feat_idx gives it {}",
                columns.len()
            ),
        ));
    }
    if !matches!(
        model.predictor.target(),
        Target::Values { n_outputs: 1, .. }
    ) || !model.predictor.predicts()
    {
        return Err(state.malformed(
            &estimator_at,
            format!("({class}) is not a regressor of one output"),
        ));
    }
    Ok(Triplet {
        feature,
        columns,
        estimator: model,
    })
}

/// An estimator's own refusal, said to be the imputer's at `attr` (unless it says so).
fn within(state: &State<'_>, attr: &str, error: LoadError) -> LoadError {
    let outer = state.label();
    match error {
        LoadError::Malformed(m) if !m.contains(&outer) => {
            LoadError::Malformed(format!("{outer}: {attr}: {m}"))
        }
        LoadError::Unsupported(m) if !m.contains(&outer) => {
            LoadError::Unsupported(format!("{outer}: {attr}: {m}"))
        }
        other => other,
    }
}
