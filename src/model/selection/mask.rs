//! The masks of the selectors that keep their statistics: VarianceThreshold (`variances_ >
//! threshold`), SelectKBest (the `k` best `scores_` by a stable sort, NaN as the lowest),
//! SelectPercentile (above numpy's linear percentile, ties kept in order up to the count),
//! SelectFpr, SelectFdr (Benjamini–Hochberg on the sorted `pvalues_`), SelectFwe,
//! GenericUnivariateSelect (one of those by `mode` and `param`); and `support_` as RFE, RFECV
//! and SequentialFeatureSelector saved it. Each gives the kept columns in order.

use crate::model::LoadError;
use crate::model::state::State;
use crate::model::value::{Elements, Value};

/// The kept columns and the number of input columns, from a boolean `support_`.
pub fn support(state: &State<'_>) -> Result<(Vec<usize>, usize), LoadError> {
    let array = state.array("support_")?;
    let Elements::Bool(mask) = &array.elements else {
        return Err(state.malformed("support_", "is not a boolean mask"));
    };
    if array.shape.len() != 1 || mask.is_empty() {
        return Err(state.malformed("support_", format!("has shape {:?}", array.shape)));
    }
    Ok((kept(mask), mask.len()))
}

fn kept(mask: &[bool]) -> Vec<usize> {
    mask.iter()
        .enumerate()
        .filter_map(|(i, &k)| k.then_some(i))
        .collect()
}

/// VarianceThreshold: the features whose variance is above the threshold.
pub fn variance(state: &State<'_>) -> Result<(Vec<usize>, usize), LoadError> {
    let (variances, shape) = state.numbers("variances_")?;
    if shape.len() != 1 || variances.is_empty() {
        return Err(state.malformed("variances_", format!("has shape {shape:?}")));
    }
    let threshold = state
        .number("threshold")?
        .ok_or_else(|| state.malformed("threshold", "is missing"))?;
    let mask: Vec<bool> = variances.iter().map(|&v| v > threshold).collect();
    Ok((kept(&mask), variances.len()))
}

/// A univariate selector's mask.
pub fn univariate(state: &State<'_>) -> Result<(Vec<usize>, usize), LoadError> {
    let (scores, shape) = state.numbers("scores_")?;
    if shape.len() != 1 || scores.is_empty() {
        return Err(state.malformed("scores_", format!("has shape {shape:?}")));
    }
    let n = scores.len();
    let pvalues = || -> Result<Vec<f64>, LoadError> {
        let (p, shape) = state.numbers("pvalues_")?;
        if shape.len() != 1 || p.len() != n {
            return Err(state.malformed("pvalues_", format!("has shape {shape:?} for {n} scores")));
        }
        Ok(p)
    };
    use crate::model::allow::SkClass::*;
    let (mode, param) = match state.class {
        SelectKBest => ("k_best", state.get("k")?),
        SelectPercentile => ("percentile", state.get("percentile")?),
        SelectFpr => ("fpr", state.get("alpha")?),
        SelectFdr => ("fdr", state.get("alpha")?),
        SelectFwe => ("fwe", state.get("alpha")?),
        _ => (state.text_required("mode")?, state.get("param")?),
    };
    let number = |name: &str| {
        crate::model::state::number_of(state.heap, param)
            .filter(|v| !v.is_nan())
            .ok_or_else(|| state.malformed(name, "is not a number"))
    };
    let mask = match mode {
        "k_best" => {
            let k = if state.heap.str(param) == Some("all") {
                n
            } else {
                match param {
                    Value::Int(k) if k >= 0 && (k as usize) <= n => k as usize,
                    _ => {
                        return Err(state.malformed(
                            "k",
                            format!("is not 'all' or a count of at most {n} features"),
                        ));
                    }
                }
            };
            k_best(&scores, k)
        }
        "percentile" => {
            // Outside 0..=100 scikit-learn's transform raises (np.percentile refuses it).
            let percentile = number("percentile")?;
            if !(0.0..=100.0).contains(&percentile) {
                return Err(state.malformed("percentile", format!("is {percentile}")));
            }
            percentile_mask(&scores, percentile)
        }
        "fpr" => {
            let alpha = number("alpha")?;
            pvalues()?.iter().map(|&p| p < alpha).collect()
        }
        "fwe" => {
            let alpha = number("alpha")?;
            pvalues()?.iter().map(|&p| p < alpha / n as f64).collect()
        }
        "fdr" => fdr(&pvalues()?, number("alpha")?),
        other => return Err(state.malformed("mode", format!("is {other:?}"))),
    };
    Ok((kept(&mask), n))
}

/// `_clean_nans`: NaN as the lowest float.
fn clean(scores: &[f64]) -> Vec<f64> {
    scores
        .iter()
        .map(|&s| if s.is_nan() { f64::MIN } else { s })
        .collect()
}

/// The last `k` of a stable ascending sort.
fn k_best(scores: &[f64], k: usize) -> Vec<bool> {
    let scores = clean(scores);
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut mask = vec![false; scores.len()];
    if k > 0 {
        for &i in &order[scores.len() - k..] {
            mask[i] = true;
        }
    }
    mask
}

fn percentile_mask(scores: &[f64], percentile: f64) -> Vec<bool> {
    let n = scores.len();
    if percentile == 100.0 {
        return vec![true; n];
    }
    if percentile == 0.0 {
        return vec![false; n];
    }
    let scores = clean(scores);
    let threshold = numpy_percentile(&scores, 100.0 - percentile);
    let mut mask: Vec<bool> = scores.iter().map(|&s| s > threshold).collect();
    let max_features = (n as f64 * percentile / 100.0) as usize;
    let selected = mask.iter().filter(|&&m| m).count();
    let room = max_features.saturating_sub(selected);
    for i in (0..n).filter(|&i| scores[i] == threshold).take(room) {
        mask[i] = true;
    }
    mask
}

/// `np.percentile(values, q)` with the default linear method: the virtual index
/// `(n - 1)·q`, and numpy's `_lerp` between its neighbours.
pub fn numpy_percentile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let q = q / 100.0;
    let virtual_index = (n - 1) as f64 * q;
    let virtual_index = virtual_index.clamp(0.0, (n - 1) as f64);
    let previous = virtual_index.floor();
    let gamma = virtual_index - previous;
    let lo = previous as usize;
    let hi = (lo + 1).min(n - 1);
    let (a, b) = (sorted[lo], sorted[hi]);
    let diff = b - a;
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

/// SelectFdr: every p-value at or below the largest sorted one under its line.
fn fdr(pvalues: &[f64], alpha: f64) -> Vec<bool> {
    let n = pvalues.len();
    let mut sorted = pvalues.to_vec();
    sorted.sort_by(f64::total_cmp);
    let largest = sorted
        .iter()
        .enumerate()
        .filter(|&(i, &p)| p <= alpha / n as f64 * (i + 1) as f64)
        .map(|(_, &p)| p)
        .fold(None, |m: Option<f64>, p| Some(m.map_or(p, |m| m.max(p))));
    match largest {
        Some(max) => pvalues.iter().map(|&p| p <= max).collect(),
        None => vec![false; n],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_numpys_linear_one() {
        // np.percentile([1, 2, 3, 4], q) for these q.
        let v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(numpy_percentile(&v, 50.0), 2.5);
        assert_eq!(numpy_percentile(&v, 0.0), 1.0);
        assert_eq!(numpy_percentile(&v, 100.0), 4.0);
        assert_eq!(numpy_percentile(&v, 70.0), 3.0999999999999996);
    }

    #[test]
    fn k_best_keeps_later_ties_as_a_stable_sort_does() {
        assert_eq!(
            k_best(&[1.0, 2.0, 2.0, f64::NAN], 1),
            [false, false, true, false]
        );
        assert_eq!(k_best(&[1.0, 2.0, 2.0], 0), [false, false, false]);
    }

    #[test]
    fn fdr_keeps_up_to_the_largest_under_the_line() {
        assert_eq!(
            fdr(&[0.01, 0.04, 0.03, 0.5], 0.1),
            [true, true, true, false]
        );
    }
}
