//! What model health checks and counts of each input column of one model version, decided
//! once when the version (or its reference) is first seen: its bins, what counts as an issue,
//! and where each count lives among the tracker's slots. The hot path only looks values up in
//! it.
//!
//! What a column's checks come from: the reference (its missing share, its min–max, its
//! categories when complete) and what the model itself knows, with or without a reference (an
//! encoder's categories and whether it saw missing values, a MinMaxScaler's fitted range, a
//! MissingIndicator's `features_`).

use std::collections::HashMap;

use super::counts::Sink;
use crate::model::{Cell, ColumnKind, Model, Target};
use crate::registry::profile::{BinKind, Distribution};

/// The issues, in the order of their slots and of `metrics::health::ISSUES`.
pub const MISSING: usize = 0;
pub const UNSEEN: usize = 1;
pub const OUT_OF_RANGE: usize = 2;

/// Slots every plan has first: rows, rows with an issue.
pub const ROWS: usize = 0;
pub const ROWS_WITH_ISSUES: usize = 1;

/// How a column's values fall into bins: its listed bins, then `other`, then `missing`.
#[derive(Debug)]
pub enum Binning {
    /// Not known yet: a reference window is filling.
    Pending,
    /// Quantile edges: bin `i` holds `edges[i-1] <= x < edges[i]`.
    Numeric(Box<[f64]>),
    /// Each value its own bin (sorted).
    Discrete(Box<[f64]>),
    /// Each category its own bin; a known category not listed is `other`.
    Categorical(HashMap<Box<str>, u16>),
}

/// A category known to the model or the reference but not one of the listed bins.
const KNOWN_OTHER: u16 = u16::MAX;

/// Lists this short are scanned rather than searched: every value of a batch passes here, and a
/// scan has no data-dependent branch to mispredict, where a binary search has one per step.
const SCANNED: usize = 32;

/// The bin of `v` among increasing `edges`: how many edges are at or below it (bin `i` holds
/// `edges[i-1] <= v < edges[i]`).
#[inline]
pub fn edge_bin(edges: &[f64], v: f64) -> usize {
    if edges.len() <= SCANNED {
        edges.iter().map(|&e| usize::from(e <= v)).sum()
    } else {
        edges.partition_point(|&e| e <= v)
    }
}

/// Where `v` is among sorted `values`, in the total order of `f64::total_cmp` (in which two
/// numbers are equal only when their bits are).
#[inline]
pub fn position(values: &[f64], v: f64) -> Option<usize> {
    if values.len() <= SCANNED {
        let bits = v.to_bits();
        values.iter().position(|k| k.to_bits() == bits)
    } else {
        values.binary_search_by(|k| k.total_cmp(&v)).ok()
    }
}

/// One input column.
#[derive(Debug)]
pub struct ColumnPlan {
    pub name: String,
    /// Read by no step: nothing is counted.
    pub unused: bool,
    /// A number below `low` or above `high` is out of range (the reference's min–max and a
    /// fitted scaler's range together).
    low: f64,
    high: f64,
    /// A missing value is an issue.
    missing_is_issue: bool,
    /// Strings: a category absent from the lookup is unseen (the lookup holds every category
    /// the model or a complete reference knows).
    check_unseen: bool,
    /// Numbers an encoder knows, when it encodes numbers (sorted).
    known_numbers: Option<Box<[f64]>>,
    pub binning: Binning,
    /// The listed bins; the column has `listed + 2` bins.
    pub listed: usize,
    /// The first of its three issue slots, and of its bins.
    pub issues: usize,
    pub bins: usize,
}

/// What a column's values are binned by, as a label for each bin.
pub fn bin_labels(distribution: &Distribution) -> Vec<String> {
    let mut labels: Vec<String> = match distribution.kind {
        BinKind::Numeric => {
            let e = &distribution.edges;
            (0..=e.len())
                .map(|i| match (i.checked_sub(1).map(|j| e[j]), e.get(i)) {
                    (None, Some(hi)) => format!("< {}", short(*hi)),
                    (Some(lo), Some(hi)) => format!("{}–{}", short(lo), short(*hi)),
                    (Some(lo), None) => format!("≥ {}", short(lo)),
                    (None, None) => "all".into(),
                })
                .collect()
        }
        BinKind::Discrete => distribution.values.iter().map(|v| short(*v)).collect(),
        BinKind::Categorical => distribution.categories.clone(),
    };
    labels.extend(["other".into(), "missing".into()]);
    labels
}

/// A number as a bin label shows it: at most 4 significant digits.
fn short(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e9 {
        return format!("{v}");
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{v:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

impl ColumnPlan {
    /// A column binned against `reference` alone, without what a model knows of it.
    pub fn of_reference(reference: &Distribution) -> Self {
        let kind = match reference.kind {
            BinKind::Categorical => ColumnKind::Text,
            _ => ColumnKind::Number,
        };
        column_plan(&reference.name, kind, Some(reference), None, None, None)
    }

    /// The bin a value falls in: a listed one, then `other` (`listed`), then `missing`.
    pub fn bin(&self, cell: Cell<'_>) -> Option<usize> {
        self.observe(cell, |_| {}).1
    }

    /// Counts a column of numbers (NaN for missing) into `sink`, and calls `flag` with each
    /// row that has an issue: what [`Self::observe`] does value by value, with the plan's
    /// checks chosen once for the column, since a batch passes every value through here.
    #[inline]
    pub fn count_numbers(
        &self,
        values: impl Iterator<Item = f64>,
        sink: &mut impl Sink,
        mut flag: impl FnMut(usize),
    ) {
        if self.unused {
            return;
        }
        match (&self.binning, &self.known_numbers) {
            (Binning::Numeric(edges), None) => {
                self.count_binned(values, sink, flag, |v| edge_bin(edges, v));
            }
            (Binning::Discrete(known), None) => {
                let other = self.listed;
                self.count_binned(values, sink, flag, |v| position(known, v).unwrap_or(other));
            }
            _ => {
                for (row, v) in values.enumerate() {
                    let cell = if v.is_nan() {
                        Cell::Missing
                    } else {
                        Cell::Number(v)
                    };
                    let (issue, bin) = self.observe(cell, |slot| sink.add(slot, 1));
                    if issue {
                        flag(row);
                    }
                    if let Some(bin) = bin {
                        sink.add(self.bins + bin, 1);
                    }
                }
            }
        }
    }

    /// [`Self::count_numbers`] for a column binned by `bin_of` (a present value's bin), with
    /// no encoder's numbers to check.
    #[inline]
    fn count_binned(
        &self,
        values: impl Iterator<Item = f64>,
        sink: &mut impl Sink,
        mut flag: impl FnMut(usize),
        bin_of: impl Fn(f64) -> usize,
    ) {
        for (row, v) in values.enumerate() {
            if self.count_binned_number(v, sink, &bin_of) {
                flag(row);
            }
        }
    }

    /// One number (`NaN` missing) of a column binned by `bin_of`; whether it had an issue.
    #[inline]
    fn count_binned_number(
        &self,
        v: f64,
        sink: &mut impl Sink,
        bin_of: impl Fn(f64) -> usize,
    ) -> bool {
        if v.is_nan() {
            if self.missing_is_issue {
                sink.add(self.issues + MISSING, 1);
            }
            sink.add(self.bins + self.listed + 1, 1);
            return self.missing_is_issue;
        }
        let out_of_range = v < self.low || v > self.high;
        if out_of_range {
            sink.add(self.issues + OUT_OF_RANGE, 1);
        }
        sink.add(self.bins + bin_of(v), 1);
        out_of_range
    }

    /// One number (`NaN` missing) of this column, counted as [`Self::count_numbers`] counts
    /// each of a column's; whether it had an issue. For a request of one row, where a
    /// column's loop would be set up for a single value.
    #[inline]
    pub fn count_number(&self, v: f64, sink: &mut impl Sink) -> bool {
        if self.unused {
            return false;
        }
        match (&self.binning, &self.known_numbers) {
            (Binning::Numeric(edges), None) => {
                self.count_binned_number(v, sink, |v| edge_bin(edges, v))
            }
            (Binning::Discrete(known), None) => {
                let other = self.listed;
                self.count_binned_number(v, sink, |v| position(known, v).unwrap_or(other))
            }
            _ => {
                let cell = if v.is_nan() {
                    Cell::Missing
                } else {
                    Cell::Number(v)
                };
                let (issue, bin) = self.observe(cell, |slot| sink.add(slot, 1));
                if let Some(bin) = bin {
                    sink.add(self.bins + bin, 1);
                }
                issue
            }
        }
    }

    /// Counts one value: its issues into `issue`, and the bin it falls in (`None` while bins are
    /// pending, or for an unused column). Returns whether it had an issue.
    #[inline]
    pub fn observe(&self, cell: Cell<'_>, mut issue: impl FnMut(usize)) -> (bool, Option<usize>) {
        if self.unused {
            return (false, None);
        }
        let missing_bin = self.listed + 1;
        let other_bin = self.listed;
        match cell {
            Cell::Missing => {
                if self.missing_is_issue {
                    issue(self.issues + MISSING);
                }
                let bin = (!matches!(self.binning, Binning::Pending)).then_some(missing_bin);
                (self.missing_is_issue, bin)
            }
            Cell::Number(v) => {
                let mut flagged = false;
                if v < self.low || v > self.high {
                    issue(self.issues + OUT_OF_RANGE);
                    flagged = true;
                }
                if let Some(known) = &self.known_numbers
                    && position(known, v).is_none()
                {
                    issue(self.issues + UNSEEN);
                    flagged = true;
                }
                let bin = match &self.binning {
                    Binning::Pending => None,
                    Binning::Numeric(edges) => Some(edge_bin(edges, v)),
                    Binning::Discrete(values) => Some(position(values, v).unwrap_or(other_bin)),
                    Binning::Categorical(_) => Some(other_bin),
                };
                (flagged, bin)
            }
            Cell::Text(s) => {
                let found = match &self.binning {
                    Binning::Categorical(lookup) => lookup.get(s).copied(),
                    _ => None,
                };
                let unseen = self.check_unseen && found.is_none();
                if unseen {
                    issue(self.issues + UNSEEN);
                }
                let bin = match (&self.binning, found) {
                    (Binning::Pending, _) => None,
                    (_, Some(bin)) if bin != KNOWN_OTHER => Some(usize::from(bin)),
                    _ => Some(other_bin),
                };
                (unseen, bin)
            }
        }
    }
}

/// How predictions fall into bins.
#[derive(Debug)]
pub enum PredictionPlan {
    /// A model of several outputs, or one that only transforms: predictions are not binned.
    None,
    /// A classifier: a class's index is its bin.
    Classes { labels: Vec<String> },
    /// A regressor: its values, binned like a numeric column (`Pending` while a window fills).
    Values(Binning),
}

/// Every column's plan, the predictions', and the slots they use.
#[derive(Debug)]
pub struct Plan {
    pub columns: Vec<ColumnPlan>,
    pub prediction: PredictionPlan,
    /// The first slot of the prediction's bins, and their number (listed + other + missing).
    pub prediction_bins: usize,
    pub prediction_len: usize,
    /// Every slot.
    pub slots: usize,
}

impl Plan {
    /// The plan of `model`'s columns (named `names`) against `reference` (one distribution per
    /// input column,
    /// and one of the predictions), or against what the model alone knows while `reference`
    /// is `None` (a window filling: strings are binned by their encoder's categories, numbers
    /// not yet).
    pub fn new(
        model: &Model,
        names: &[String],
        reference: Option<(&[Distribution], Option<&Distribution>)>,
    ) -> Self {
        let categories = model.categories();
        let mut slot = ROWS_WITH_ISSUES + 1;
        let mut columns = Vec::with_capacity(model.n_features());
        for (i, input) in model.input().columns.iter().enumerate() {
            let distribution = reference.and_then(|(columns, _)| columns.get(i));
            let known = categories.get(i).and_then(Option::as_ref);
            let mut plan = column_plan(
                names.get(i).unwrap_or(&input.name),
                input.kind,
                distribution,
                known,
                model.fitted_range(i),
                model.fitted_missing(i),
            );
            plan.issues = slot;
            slot += 3;
            columns.push(plan);
        }
        for plan in &mut columns {
            plan.bins = slot;
            if !matches!(plan.binning, Binning::Pending) && !plan.unused {
                slot += plan.listed + 2;
            }
        }
        let prediction = match model.target() {
            _ if !model.predicts() => PredictionPlan::None,
            Target::Classes(classes) => PredictionPlan::Classes {
                labels: (0..classes.len())
                    .map(|c| classes.label(c).to_string())
                    .collect(),
            },
            Target::Values { n_outputs: 1, .. } => {
                PredictionPlan::Values(match reference.and_then(|(_, p)| p) {
                    Some(d) => binning(d, None).0,
                    None => Binning::Pending,
                })
            }
            _ => PredictionPlan::None,
        };
        let prediction_len = match &prediction {
            PredictionPlan::Classes { labels } => labels.len() + 2,
            PredictionPlan::Values(Binning::Numeric(edges)) => edges.len() + 3,
            PredictionPlan::Values(Binning::Discrete(values)) => values.len() + 2,
            PredictionPlan::Values(_) | PredictionPlan::None => 0,
        };
        Self {
            columns,
            prediction,
            prediction_bins: slot,
            prediction_len,
            slots: slot + prediction_len,
        }
    }

    /// Whether every column and the predictions have bins.
    pub fn binned(&self) -> bool {
        self.columns
            .iter()
            .all(|c| c.unused || !matches!(c.binning, Binning::Pending))
            && !matches!(self.prediction, PredictionPlan::Values(Binning::Pending))
    }

    /// The bin of a prediction: a class index, or a value.
    #[inline]
    pub fn prediction_bin(&self, class: Option<usize>, value: f64) -> Option<usize> {
        match (&self.prediction, class) {
            (PredictionPlan::Classes { labels }, Some(class)) => Some(class.min(labels.len())),
            (PredictionPlan::Values(Binning::Numeric(edges)), None) if !value.is_nan() => {
                Some(edge_bin(edges, value))
            }
            (PredictionPlan::Values(Binning::Discrete(values)), None) if !value.is_nan() => {
                Some(position(values, value).unwrap_or(values.len()))
            }
            _ => None,
        }
    }
}

/// The plan of one column.
fn column_plan(
    name: &str,
    kind: ColumnKind,
    reference: Option<&Distribution>,
    known: Option<&Vec<String>>,
    fitted_range: Option<(f64, f64)>,
    fitted_missing: Option<bool>,
) -> ColumnPlan {
    let (mut low, mut high) = fitted_range.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
    if let Some(d) = reference
        && let (Some(min), Some(max)) = (d.min, d.max)
    {
        low = low.max(min);
        high = high.min(max);
    }
    let missing_is_issue =
        fitted_missing == Some(false) || reference.is_some_and(|d| d.missing == 0.0);
    let known_numbers = match (kind, known) {
        (ColumnKind::Number, Some(names)) => {
            let mut numbers: Vec<f64> = names.iter().filter_map(|n| n.parse().ok()).collect();
            numbers.retain(|v: &f64| !v.is_nan());
            numbers.sort_by(f64::total_cmp);
            Some(numbers.into_boxed_slice())
        }
        _ => None,
    };
    let (binning, listed, check_unseen) = match (reference, kind) {
        (_, ColumnKind::Unused | ColumnKind::Mapping) => (Binning::Pending, 0, false),
        (Some(d), _) => binning(d, known.filter(|_| kind == ColumnKind::Text)),
        (None, ColumnKind::Text) => {
            let categories = known.cloned().unwrap_or_default();
            let listed = categories.len().min(crate::registry::profile::MAX_BINS);
            let lookup = categories
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let bin = if i < listed { i as u16 } else { KNOWN_OTHER };
                    (c.clone().into_boxed_str(), bin)
                })
                .collect();
            (Binning::Categorical(lookup), listed, known.is_some())
        }
        (None, _) => (Binning::Pending, 0, false),
    };
    ColumnPlan {
        name: name.to_owned(),
        // A mapping's features are not columns: model health does not follow them.
        unused: matches!(kind, ColumnKind::Unused | ColumnKind::Mapping),
        low,
        high,
        missing_is_issue,
        check_unseen,
        known_numbers,
        binning,
        listed,
        issues: 0,
        bins: 0,
    }
}

/// The binning of a reference distribution, its listed bins, and whether an unknown string is
/// unseen (`known`: the categories the model's encoder knows, which may be more than the
/// reference lists).
fn binning(d: &Distribution, known: Option<&Vec<String>>) -> (Binning, usize, bool) {
    match d.kind {
        BinKind::Numeric => (
            Binning::Numeric(d.edges.clone().into()),
            d.edges.len() + 1,
            false,
        ),
        BinKind::Discrete => (
            Binning::Discrete(d.values.clone().into()),
            d.values.len(),
            false,
        ),
        BinKind::Categorical => {
            let mut lookup: HashMap<Box<str>, u16> = d
                .categories
                .iter()
                .enumerate()
                .map(|(i, c)| (c.clone().into_boxed_str(), i as u16))
                .collect();
            for category in known.into_iter().flatten() {
                lookup
                    .entry(category.clone().into_boxed_str())
                    .or_insert(KNOWN_OTHER);
            }
            let check = known.is_some() || d.complete;
            (Binning::Categorical(lookup), d.categories.len(), check)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::reference;

    fn column(d: Option<&Distribution>, range: Option<(f64, f64)>) -> ColumnPlan {
        column_plan("x", ColumnKind::Number, d, None, range, None)
    }

    fn observe(plan: &ColumnPlan, cell: Cell<'_>) -> (Vec<usize>, Option<usize>) {
        let mut issues = Vec::new();
        let (_, bin) = plan.observe(cell, |slot| issues.push(slot));
        (issues, bin)
    }

    #[test]
    fn numbers_fall_in_their_quantile_bin_and_out_of_range_is_counted() {
        let values: Vec<f64> = (0..100).map(f64::from).collect();
        let d = reference::numbers("x", &values, 4);
        let plan = column(Some(&d), Some((-10.0, 90.0)));
        assert_eq!(observe(&plan, Cell::Number(0.0)), (vec![], Some(0)));
        assert_eq!(observe(&plan, Cell::Number(50.0)), (vec![], Some(2)));
        // Above the fitted range (90), within the reference's (99): out of range all the same.
        assert_eq!(
            observe(&plan, Cell::Number(95.0)),
            (vec![OUT_OF_RANGE], Some(3))
        );
        assert_eq!(
            observe(&plan, Cell::Number(-1.0)),
            (vec![OUT_OF_RANGE], Some(0))
        );
        // No missing value in the reference: one is an issue, in the missing bin.
        assert_eq!(observe(&plan, Cell::Missing), (vec![MISSING], Some(5)));
    }

    /// A KBinsDiscretizer's outer bin edges are the range the model knows of each column
    /// (`tests/python/health/make_binned_model.py`): a value beyond them is out of range
    /// without any reference.
    #[test]
    fn values_outside_a_kbins_discretizers_edges_are_out_of_range() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/health/binned.pkl");
        let model = crate::model::Model::from_bytes(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(model.fitted_range(0), Some((2.001, 7.975)));
        assert_eq!(model.fitted_range(1), Some((-0.991, 0.998)));
        let names = ["width".to_owned(), "height".to_owned()];
        let plan = Plan::new(&model, &names, None);
        let (width, height) = (&plan.columns[0], &plan.columns[1]);
        assert_eq!(observe(width, Cell::Number(5.0)).0, Vec::<usize>::new());
        assert_eq!(observe(width, Cell::Number(2.001)).0, Vec::<usize>::new());
        assert_eq!(
            observe(width, Cell::Number(8.5)).0,
            vec![width.issues + OUT_OF_RANGE]
        );
        assert_eq!(
            observe(height, Cell::Number(-1.2)).0,
            vec![height.issues + OUT_OF_RANGE]
        );
        assert_eq!(observe(height, Cell::Number(0.0)).0, Vec::<usize>::new());
    }

    #[test]
    fn strings_unknown_to_the_encoder_are_unseen_even_without_a_reference() {
        let known = vec!["a".to_owned(), "b".to_owned()];
        let plan = column_plan("s", ColumnKind::Text, None, Some(&known), None, Some(true));
        assert_eq!(observe(&plan, Cell::Text("b")), (vec![], Some(1)));
        assert_eq!(observe(&plan, Cell::Text("z")), (vec![UNSEEN], Some(2)));
        assert_eq!(observe(&plan, Cell::Missing), (vec![], Some(3)));
        // A reference listing fewer categories than the encoder knows: the others are `other`
        // but not unseen.
        let d = reference::strings("s", [Some("a"), Some("a")]);
        let plan = column_plan("s", ColumnKind::Text, Some(&d), Some(&known), None, None);
        assert_eq!(observe(&plan, Cell::Text("b")), (vec![], Some(1)));
        assert_eq!(observe(&plan, Cell::Text("z")), (vec![UNSEEN], Some(1)));
        assert_eq!(observe(&plan, Cell::Missing), (vec![MISSING], Some(2)));
    }

    /// Slot counts as a sink keeps them.
    #[derive(Default)]
    struct Counted(std::collections::BTreeMap<usize, u64>);

    impl Sink for Counted {
        fn add(&mut self, slot: usize, n: u64) {
            *self.0.entry(slot).or_default() += n;
        }
    }

    #[test]
    fn a_column_counted_at_once_or_value_by_value_counts_as_its_values_one_by_one() {
        let numbers: Vec<f64> = (0..100).map(f64::from).collect();
        let few = [0.0, 1.0, 1.0, 0.0, 1.0];
        let long: Vec<f64> = (0..100).map(|v| f64::from(v % 40)).collect();
        let plans = [
            column(
                Some(&reference::numbers("x", &numbers, 4)),
                Some((-10.0, 90.0)),
            ),
            column(Some(&reference::numbers("x", &few, 10)), None),
            column(Some(&reference::numbers("x", &long, 10)), None),
            column(None, Some((0.0, 1.0))),
        ];
        let values = [0.0, 50.0, 95.0, -1.0, f64::NAN, 1.0, -0.0, 7.0, 39.0, 1e300];
        for (p, mut plan) in plans.into_iter().enumerate() {
            plan.issues = 2;
            plan.bins = 5;
            let (mut one_by_one, mut flags_one) = (Counted::default(), Vec::new());
            for (row, &v) in values.iter().enumerate() {
                let cell = if v.is_nan() {
                    Cell::Missing
                } else {
                    Cell::Number(v)
                };
                let (issue, bin) = plan.observe(cell, |slot| one_by_one.add(slot, 1));
                if issue {
                    flags_one.push(row);
                }
                if let Some(bin) = bin {
                    one_by_one.add(plan.bins + bin, 1);
                }
            }
            let (mut at_once, mut flags) = (Counted::default(), Vec::new());
            plan.count_numbers(values.iter().copied(), &mut at_once, |row| flags.push(row));
            assert_eq!(at_once.0, one_by_one.0, "plan {p}");
            assert_eq!(flags, flags_one, "plan {p}");
            // A one-row request's path: each value alone.
            let (mut alone, mut flags_alone) = (Counted::default(), Vec::new());
            for (row, &v) in values.iter().enumerate() {
                if plan.count_number(v, &mut alone) {
                    flags_alone.push(row);
                }
            }
            assert_eq!(alone.0, one_by_one.0, "plan {p}");
            assert_eq!(flags_alone, flags_one, "plan {p}");
        }
    }

    #[test]
    fn bins_are_labelled_for_people() {
        let values: Vec<f64> = (0..100).map(|v| f64::from(v) / 7.0).collect();
        let d = reference::numbers("x", &values, 2);
        assert_eq!(bin_labels(&d), ["< 7.071", "≥ 7.071", "other", "missing"]);
    }
}
