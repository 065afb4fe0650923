//! One model version's health: its plan, its reference (a profile, or the window that will
//! become one), the counts the hot path adds to, and, behind a lock only the ticker and readers
//! take, the counts moved out of them: totals since the version was first seen and two rings
//! of time buckets for the drift windows.
//!
//! | ring | bucket | buckets | serves |
//! |---|---|---|---|
//! | hour | 5 min | 12 | the 1h window (55 to 60 minutes, the current bucket included) |
//! | day | 1 h | 24 | the 1d window |
//!
//! Memory: slots × 8 bytes × (36 ring buckets + 1 total + one shard per CPU), slots being
//! 2 + 3 per column + every column's bins (at most 66 each) + the predictions' bins; plus, while
//! a reference window fills, its buffer (`super::window`).

use std::ops::Range;
use std::sync::{Arc, Mutex};

use super::counts::{Shards, Sink};
use super::plan::{Binning, Plan, PredictionPlan, ROWS, ROWS_WITH_ISSUES};
use super::reference;
use super::window::Window;
use crate::inference::{Seen, SeenInput};
use crate::model::{Cell, Prediction};
use crate::registry::LoadedModel;
use crate::registry::profile::{Distribution, Profile, ProfileStatus};
use crate::slo::ring::Ring;

/// The drift windows, as labels and `slos.yaml` name them.
pub const WINDOWS: [&str; 2] = ["1h", "1d"];
const HOUR: (u64, u64) = (300, 3600);
const DAY: (u64, u64) = (3600, 86_400);

/// What drift is measured against.
#[derive(Debug)]
pub struct Reference {
    /// A short hash of the distributions: instances with the same reference have the same id,
    /// so that their bins can be summed.
    pub id: String,
    pub columns: Vec<Distribution>,
    pub prediction: Option<Distribution>,
    pub source: Source,
}

/// Where a reference came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Profile {
        location: String,
        /// Made with this very model file.
        same_version: bool,
        rows: u64,
        created: String,
    },
    /// The first `rows` rows this version served.
    Window { rows: usize },
}

impl Reference {
    fn new(columns: Vec<Distribution>, prediction: Option<Distribution>, source: Source) -> Self {
        let text = serde_json::to_vec(&(&columns, &prediction)).unwrap_or_default();
        Self {
            id: crate::store::content_version(&text),
            columns,
            prediction,
            source,
        }
    }

    fn of_profile(profile: &Profile, location: &str, same_version: bool) -> Self {
        Self::new(
            profile.columns.clone(),
            profile.prediction.clone(),
            Source::Profile {
                location: location.to_owned(),
                same_version,
                rows: profile.rows,
                created: profile.created.clone(),
            },
        )
    }
}

/// One model version's counts.
#[derive(Debug)]
pub struct Tracker {
    pub version: String,
    pub plan: Plan,
    /// `None` while a window fills (or with neither a profile nor a window).
    pub reference: Option<Arc<Reference>>,
    /// A profile that was found but refused: where, and why.
    pub profile_error: Option<(String, String)>,
    /// Filling: the first rows, to become the reference.
    pub window: Option<Window>,
    shards: Shards,
    ledger: Mutex<Ledger>,
}

#[derive(Debug)]
struct Ledger {
    totals: Vec<u64>,
    hour: Ring<Box<[u64]>>,
    day: Ring<Box<[u64]>>,
}

impl Tracker {
    /// The tracker of a version first seen: against its profile, or filling a window of
    /// `window_rows` rows (none when 0).
    pub fn new(loaded: &LoadedModel, window_rows: usize) -> Self {
        let model = loaded.model();
        match loaded.profile() {
            ProfileStatus::Loaded {
                profile,
                location,
                same_version,
            } => {
                let reference = Reference::of_profile(profile, location, *same_version);
                Self::with_reference(loaded, Arc::new(reference), None)
            }
            status => {
                let profile_error = match status {
                    ProfileStatus::Refused { location, error } => {
                        Some((location.clone(), error.clone()))
                    }
                    _ => None,
                };
                let plan = Plan::new(model, &loaded.column_names(), None);
                let window =
                    (window_rows > 0).then(|| Window::new(window_rows, plan.columns.len() + 1));
                Self::assemble(loaded, plan, None, profile_error, window)
            }
        }
    }

    /// The tracker of a version against `reference`.
    pub fn with_reference(
        loaded: &LoadedModel,
        reference: Arc<Reference>,
        profile_error: Option<(String, String)>,
    ) -> Self {
        let plan = Plan::new(
            loaded.model(),
            &loaded.column_names(),
            Some((&reference.columns, reference.prediction.as_ref())),
        );
        Self::assemble(loaded, plan, Some(reference), profile_error, None)
    }

    fn assemble(
        loaded: &LoadedModel,
        plan: Plan,
        reference: Option<Arc<Reference>>,
        profile_error: Option<(String, String)>,
        window: Option<Window>,
    ) -> Self {
        let blank: Box<[u64]> = vec![0; plan.slots].into();
        let ledger = Ledger {
            totals: vec![0; plan.slots],
            hour: Ring::new(HOUR.0, HOUR.1, blank.clone()),
            day: Ring::new(DAY.0, DAY.1, blank),
        };
        Self {
            version: loaded.version().to_owned(),
            shards: Shards::new(plan.slots),
            plan,
            reference,
            profile_error,
            window,
            ledger: Mutex::new(ledger),
        }
    }

    /// Counts one answered request, into this thread's shard (see [`Shards`]): no lock, and one
    /// locked instruction whatever the number of rows.
    #[inline]
    pub fn count(&self, seen: &Seen<'_>) {
        let rows = seen.n_rows;
        if rows == 0 {
            return;
        }
        let slots = self.window.as_ref().map_or(0..0, |w| w.claim(rows));
        self.count_rows(seen, &mut self.shards.claim(), slots);
    }

    /// Counts the rows of `seen` into `sink`, column by column: within a column every value
    /// meets the same plan, so its branches are predictable; and into the window's `slots`.
    fn count_rows(&self, seen: &Seen<'_>, sink: &mut impl Sink, slots: Range<usize>) {
        let columns = &self.plan.columns;
        let n_rows = seen.n_rows;
        let width = match seen.input {
            SeenInput::Rows { n_features, .. } => n_features,
            SeenInput::Frame(frame) => frame.columns.len(),
        };
        let n_columns = columns.len().min(width);
        let window = self.window.as_ref().filter(|_| !slots.is_empty());
        // Rows `0..kept` have a slot of the window, `slots.start + row`.
        let kept = slots.len();
        let mut flagged = Flagged::new(n_rows);
        let one_row = match seen.input {
            SeenInput::Rows { values, .. } if n_rows == 1 && window.is_none() => Some(values),
            _ => None,
        };
        if let Some(row) = one_row {
            // The usual request, one row: each column's plan meets its one value directly.
            for (plan, &v) in columns[..n_columns].iter().zip(row) {
                if plan.count_number(v, sink) {
                    flagged.set(0);
                }
            }
        } else {
            for (c, plan) in columns[..n_columns].iter().enumerate() {
                let mut observe = |row: usize, value: Cell<'_>| {
                    let (issue, bin) = plan.observe(value, |s| sink.add(s, 1));
                    if issue {
                        flagged.set(row);
                    }
                    if let Some(bin) = bin {
                        sink.add(plan.bins + bin, 1);
                    }
                    if let Some(window) = window
                        && row < kept
                    {
                        let stored = match value {
                            Cell::Number(v) => v,
                            Cell::Text(_) => bin.map_or(f64::NAN, |b| b as f64),
                            Cell::Missing => f64::NAN,
                        };
                        window.store(slots.start + row, c, stored);
                    }
                };
                match seen.input {
                    SeenInput::Rows { values, n_features } if window.is_none() => {
                        let column = values[c..].iter().step_by(n_features).take(n_rows);
                        plan.count_numbers(column.copied(), sink, |row| flagged.set(row));
                    }
                    SeenInput::Rows { values, n_features } => {
                        let column = values[c..].iter().step_by(n_features).take(n_rows);
                        for (row, &v) in column.enumerate() {
                            observe(
                                row,
                                if v.is_nan() {
                                    Cell::Missing
                                } else {
                                    Cell::Number(v)
                                },
                            );
                        }
                    }
                    SeenInput::Frame(frame) => {
                        let column = &frame.columns[c];
                        for row in 0..n_rows {
                            observe(row, column.cell(row));
                        }
                    }
                }
            }
        }
        sink.add(ROWS, n_rows as u64);
        let with_issues = flagged.count();
        if with_issues > 0 {
            sink.add(ROWS_WITH_ISSUES, with_issues as u64);
        }
        for row in 0..n_rows {
            let (class, value) = match seen.predicted {
                Some(Prediction::Classes(classes)) => (Some(classes[row]), f64::NAN),
                Some(Prediction::Values(values)) if values.ncols() == 1 => (None, values[[row, 0]]),
                _ => (None, f64::NAN),
            };
            if let Some(bin) = self.plan.prediction_bin(class, value) {
                sink.add(self.plan.prediction_bins + bin, 1);
            }
            if let Some(window) = window
                && row < kept
            {
                window.store(
                    slots.start + row,
                    columns.len(),
                    class.map_or(value, |c| c as f64),
                );
            }
        }
        if let Some(window) = window {
            window.written(kept);
        }
    }

    /// Moves the counts added since the last drain into the totals and the rings, as of
    /// `now` (seconds); returns them.
    pub fn drain(&self, now: u64) -> Vec<u64> {
        let delta = self.shards.take();
        let mut guard = self.lock();
        let ledger = &mut *guard;
        for (total, n) in ledger.totals.iter_mut().zip(&delta) {
            *total += n;
        }
        for ring in [&mut ledger.hour, &mut ledger.day] {
            for (sum, n) in ring.advance(now).iter_mut().zip(&delta) {
                *sum += n;
            }
        }
        delta
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // Counts only ever grow: a holder that panicked leaves them consistent.
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every slot's count since the version was first seen (as of the last drain).
    pub fn totals(&self) -> Vec<u64> {
        self.lock().totals.clone()
    }

    /// Every slot's count over the drift window `WINDOWS[window]`, as of `now` (seconds).
    pub fn over(&self, window: usize, now: u64) -> Vec<u64> {
        let mut ledger = self.lock();
        let ring = if window == 0 {
            &mut ledger.hour
        } else {
            &mut ledger.day
        };
        ring.advance(now);
        let mut sum = vec![0; self.plan.slots];
        for (_, bucket) in ring.newest(ring.len() as u64) {
            for (s, n) in sum.iter_mut().zip(bucket.iter()) {
                *s += n;
            }
        }
        sum
    }

    /// The reference a full window makes: its rows binned as `skserve profile` bins a CSV's,
    /// strings over the bins they were counted in. `None` until the window is full.
    pub fn window_reference(&self) -> Option<Reference> {
        let window = self.window.as_ref().filter(|w| w.full())?;
        let mut columns = Vec::with_capacity(self.plan.columns.len());
        for (c, plan) in self.plan.columns.iter().enumerate() {
            let values = window.column(c);
            let distribution = match &plan.binning {
                Binning::Categorical(lookup) => {
                    let mut categories = vec![String::new(); plan.listed];
                    for (name, &bin) in lookup {
                        if let Some(slot) = categories.get_mut(usize::from(bin)) {
                            *slot = name.to_string();
                        }
                    }
                    let mut counts = vec![0u64; plan.listed + 2];
                    for v in values {
                        let bin = if v.is_nan() {
                            plan.listed + 1
                        } else {
                            v as usize
                        };
                        counts[bin.min(plan.listed + 1)] += 1;
                    }
                    reference::counted(&plan.name, categories, &counts, false)
                }
                _ => reference::numbers(&plan.name, &values, reference::DEFAULT_BINS),
            };
            columns.push(distribution);
        }
        let predictions = window.column(self.plan.columns.len());
        let prediction = match &self.plan.prediction {
            PredictionPlan::None => None,
            PredictionPlan::Classes { labels } => {
                let mut counts = vec![0u64; labels.len() + 2];
                for v in predictions.iter().filter(|v| !v.is_nan()) {
                    counts[(*v as usize).min(labels.len())] += 1;
                }
                Some(reference::counted(
                    "prediction",
                    labels.clone(),
                    &counts,
                    true,
                ))
            }
            PredictionPlan::Values(_) => Some(reference::numbers(
                "prediction",
                &predictions,
                reference::DEFAULT_BINS,
            )),
        };
        Some(Reference::new(
            columns,
            prediction,
            Source::Window {
                rows: window.rows(),
            },
        ))
    }

    /// Bytes its counts hold (the plan's lookups and the window's buffer aside).
    pub fn bytes(&self) -> usize {
        let slots = self.plan.slots * std::mem::size_of::<u64>();
        self.shards.bytes()
            + slots * (1 + HOUR.1.div_ceil(HOUR.0) + DAY.1.div_ceil(DAY.0)) as usize
            + self.window.as_ref().map_or(0, Window::bytes)
    }
}

/// Which rows of one request had an issue: on the stack for a request of up to
/// [`Flagged::INLINE`] rows, which is nearly every request.
struct Flagged {
    inline: [bool; Flagged::INLINE],
    spilled: Vec<bool>,
    rows: usize,
}

impl Flagged {
    const INLINE: usize = 128;

    fn new(rows: usize) -> Self {
        Self {
            inline: [false; Self::INLINE],
            spilled: if rows > Self::INLINE {
                vec![false; rows]
            } else {
                Vec::new()
            },
            rows,
        }
    }

    #[inline]
    fn set(&mut self, row: usize) {
        match self.spilled.get_mut(row) {
            Some(flag) => *flag = true,
            None => self.inline[row] = true,
        }
    }

    fn count(&self) -> usize {
        let flags = if self.spilled.is_empty() {
            &self.inline[..self.rows]
        } else {
            &self.spilled[..]
        };
        flags.iter().filter(|&&f| f).count()
    }
}
