//! Distributions made from values: the bins of a reference, whether `skserve profile` makes it
//! from a CSV of training data or a server from the first rows a model version serves.
//!
//! A column of numbers with at most [`DISCRETE_LIMIT`] distinct values is binned by value, as
//! Evidently bins a column with so few (it then treats it as categorical); otherwise by
//! quantiles of the reference (deciles unless told otherwise), so that every bin holds about
//! as many reference rows and none is empty, which keeps PSI's logarithm stable (when one value
//! holds most rows, the quantiles of the distinct values instead). Evidently's
//! equal-width bins over the reference and the current data together need the current raw
//! values, which a server counting in fixed memory does not keep. Missing values are a bin of
//! their own; strings keep their [`MAX_BINS`] most frequent categories, the rest are `other`.

use std::collections::HashMap;

use crate::registry::profile::{BinKind, Distribution, MAX_BINS};

/// A numeric column with at most this many distinct values is binned by value (Evidently's
/// rule: more than 20 is numerical).
pub const DISCRETE_LIMIT: usize = 20;
/// Quantile bins of a numeric column unless told otherwise: deciles.
pub const DEFAULT_BINS: usize = 10;

/// The distribution of numbers (`NaN` missing), binned as the module says, in at most `bins`
/// quantile bins.
pub fn numbers(name: &str, values: &[f64], bins: usize) -> Distribution {
    let n = values.len().max(1) as f64;
    let mut present: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    present.sort_by(f64::total_cmp);
    let missing = (values.len() - present.len()) as f64 / n;
    let (min, max) = (present.first().copied(), present.last().copied());
    let mut distinct: Vec<(f64, usize)> = Vec::new();
    for &v in &present {
        match distinct.last_mut() {
            Some((last, count)) if *last == v => *count += 1,
            _ => {
                distinct.push((v, 1));
                if distinct.len() > DISCRETE_LIMIT {
                    break;
                }
            }
        }
    }
    let base = Distribution {
        name: name.to_owned(),
        kind: BinKind::Discrete,
        edges: Vec::new(),
        values: Vec::new(),
        categories: Vec::new(),
        shares: Vec::new(),
        other: 0.0,
        missing,
        min,
        max,
        complete: true,
    };
    if distinct.len() <= DISCRETE_LIMIT {
        return Distribution {
            values: distinct.iter().map(|(v, _)| *v).collect(),
            shares: distinct.iter().map(|(_, c)| *c as f64 / n).collect(),
            ..base
        };
    }
    let bins = bins.clamp(2, MAX_BINS);
    let cut = |sorted: &[f64]| {
        let mut edges: Vec<f64> = (1..bins)
            .map(|k| quantile(sorted, k as f64 / bins as f64))
            .collect();
        edges.dedup();
        // An edge at the minimum would leave the first bin empty in the reference.
        edges.retain(|&e| Some(e) > min);
        edges
    };
    let mut edges = cut(&present);
    if edges.len() + 1 < bins / 2 {
        // One value holds most rows and its quantiles collapse: cut the distinct values
        // instead, so that the rest still has bins of its own.
        let mut distinct = present.clone();
        distinct.dedup();
        edges = cut(&distinct);
    }
    let mut counts = vec![0usize; edges.len() + 1];
    for &v in &present {
        counts[edges.partition_point(|&e| e <= v)] += 1;
    }
    Distribution {
        kind: BinKind::Numeric,
        edges,
        shares: counts.iter().map(|&c| c as f64 / n).collect(),
        complete: false,
        ..base
    }
}

/// numpy's default quantile (`linear`) of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let low = h.floor() as usize;
    let high = (low + 1).min(sorted.len() - 1);
    sorted[low] + (h - low as f64) * (sorted[high] - sorted[low])
}

/// The distribution of strings (`None` missing): the [`MAX_BINS`] most frequent categories,
/// most frequent first (ties by name), the rest `other`.
pub fn strings<'a>(name: &str, values: impl IntoIterator<Item = Option<&'a str>>) -> Distribution {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let (mut n, mut missing) = (0usize, 0usize);
    for value in values {
        n += 1;
        match value {
            Some(s) => *counts.entry(s).or_default() += 1,
            None => missing += 1,
        }
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let listed = ranked.len().min(MAX_BINS);
    let share = |c: usize| c as f64 / n.max(1) as f64;
    Distribution {
        name: name.to_owned(),
        kind: BinKind::Categorical,
        edges: Vec::new(),
        values: Vec::new(),
        categories: ranked[..listed]
            .iter()
            .map(|(s, _)| (*s).to_owned())
            .collect(),
        shares: ranked[..listed].iter().map(|(_, c)| share(*c)).collect(),
        other: share(ranked[listed..].iter().map(|(_, c)| c).sum()),
        missing: share(missing),
        min: None,
        max: None,
        complete: listed == ranked.len(),
    }
}

/// The distribution over fixed categories from the count of each (then `other`, then
/// `missing`): a window's string column over its encoder's categories, or class counts.
pub fn counted(
    name: &str,
    categories: Vec<String>,
    counts: &[u64],
    complete: bool,
) -> Distribution {
    let n = counts.iter().sum::<u64>().max(1) as f64;
    let listed = categories.len();
    Distribution {
        name: name.to_owned(),
        kind: BinKind::Categorical,
        edges: Vec::new(),
        values: Vec::new(),
        categories,
        shares: counts[..listed].iter().map(|&c| c as f64 / n).collect(),
        other: counts.get(listed).map_or(0.0, |&c| c as f64 / n),
        missing: counts.get(listed + 1).map_or(0.0, |&c| c as f64 / n),
        min: None,
        max: None,
        complete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_distinct_numbers_are_bins_of_their_own() {
        let d = numbers("x", &[1.0, 2.0, 2.0, f64::NAN, 1.0, 2.0], 10);
        assert_eq!(d.kind, BinKind::Discrete);
        assert_eq!(d.values, [1.0, 2.0]);
        assert_eq!(d.shares, [2.0 / 6.0, 3.0 / 6.0]);
        assert_eq!(d.missing, 1.0 / 6.0);
        assert_eq!((d.min, d.max), (Some(1.0), Some(2.0)));
    }

    #[test]
    fn many_distinct_numbers_are_cut_at_their_deciles() {
        let values: Vec<f64> = (0..1000).map(f64::from).collect();
        let d = numbers("x", &values, 10);
        assert_eq!(d.kind, BinKind::Numeric);
        assert_eq!(d.edges.len(), 9);
        assert_eq!(d.edges[0], 99.9);
        assert!(
            d.shares.iter().all(|&s| (s - 0.1).abs() < 1e-9),
            "{:?}",
            d.shares
        );
        let sum: f64 = d.all_shares().iter().sum();
        assert!((sum - 1.0).abs() < 1e-12);
        // Heavily repeated values merge their edges.
        let mut skewed = vec![0.0; 900];
        skewed.extend((0..100).map(f64::from));
        let d = numbers("y", &skewed, 10);
        assert!(d.edges.windows(2).all(|w| w[0] < w[1]), "{:?}", d.edges);
        assert!(d.edges[0] > 0.0);
    }

    #[test]
    fn strings_keep_their_most_frequent_categories() {
        let values = ["b", "a", "b", "c"].map(Some).into_iter().chain([None]);
        let d = strings("s", values);
        assert_eq!(d.categories, ["b", "a", "c"]);
        assert_eq!(d.shares, [0.4, 0.2, 0.2]);
        assert_eq!((d.other, d.missing, d.complete), (0.0, 0.2, true));
        let many: Vec<String> = (0..100).map(|i| format!("c{i:03}")).collect();
        let d = strings("t", many.iter().map(|s| Some(s.as_str())));
        assert_eq!(d.categories.len(), MAX_BINS);
        assert!(!d.complete && (d.other - 0.36).abs() < 1e-12);
    }
}
