//! Making a profile: [`ProfileMaker`] is an `inference::Observer` that keeps every row it is
//! shown and what the model predicted for it, then bins them (`super::reference`) into a
//! `registry::profile::Profile`. `skserve profile` runs a CSV through the one prediction path
//! with it; nothing here predicts or reads files.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use super::reference;
use crate::inference::{Observer, Seen, SeenInput};
use crate::model::{Column, ColumnKind, Prediction};
use crate::registry::LoadedModel;
use crate::registry::profile::{FORMAT, Profile, ProfiledModel};

/// Keeps the rows it sees, to profile them.
#[derive(Debug)]
pub struct ProfileMaker {
    /// Quantile bins of a numeric column.
    bins: usize,
    seen: Mutex<Rows>,
}

#[derive(Debug, Default)]
struct Rows {
    n: usize,
    columns: Vec<Values>,
    classes: Vec<u64>,
    values: Vec<f64>,
}

#[derive(Debug)]
enum Values {
    Numbers(Vec<f64>),
    Texts(Vec<Option<String>>),
}

impl ProfileMaker {
    /// A maker cutting numeric columns into `bins` quantile bins.
    pub fn new(bins: usize) -> Self {
        Self {
            bins,
            seen: Mutex::new(Rows::default()),
        }
    }

    /// The profile of every row seen, for `loaded`, made now.
    pub fn profile(self, loaded: &LoadedModel) -> Result<Profile, String> {
        let rows = self.seen.into_inner().unwrap_or_else(|e| e.into_inner());
        if rows.n == 0 {
            return Err("no rows were predicted: there is nothing to profile".into());
        }
        let model = loaded.model();
        let names = loaded.column_names();
        let columns = names
            .iter()
            .zip(&rows.columns)
            .map(|(name, values)| match values {
                Values::Numbers(v) => reference::numbers(name, v, self.bins),
                Values::Texts(v) => reference::strings(name, v.iter().map(Option::as_deref)),
            })
            .collect();
        let prediction = match model.classes() {
            Some(classes) => {
                let labels = (0..classes.len())
                    .map(|c| classes.label(c).to_string())
                    .collect();
                let mut counts = rows.classes.clone();
                counts.resize(classes.len() + 2, 0);
                Some(reference::counted("prediction", labels, &counts, true))
            }
            None if !rows.values.is_empty() => {
                Some(reference::numbers("prediction", &rows.values, self.bins))
            }
            None => None,
        };
        let profile = Profile {
            skserve_profile: FORMAT,
            model: ProfiledModel {
                version: loaded.content_hash().to_owned(),
                estimator: model.chain().to_owned(),
            },
            rows: rows.n as u64,
            created: rfc3339(SystemTime::now()),
            columns,
            prediction,
        };
        profile.check(model, &names).map_err(|e| e.to_string())?;
        Ok(profile)
    }
}

impl Observer for ProfileMaker {
    fn answered(&self, seen: &Seen<'_>) {
        let mut rows = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let kinds: Vec<ColumnKind> = seen
            .model
            .model()
            .input()
            .columns
            .iter()
            .map(|c| c.kind)
            .collect();
        if rows.columns.is_empty() {
            rows.columns = kinds
                .iter()
                .enumerate()
                .map(|(c, kind)| {
                    let text = match seen.input {
                        SeenInput::Frame(frame) => matches!(frame.columns[c], Column::Texts(_)),
                        SeenInput::Rows { .. } => false,
                    };
                    if *kind == ColumnKind::Text || text {
                        Values::Texts(Vec::new())
                    } else {
                        Values::Numbers(Vec::new())
                    }
                })
                .collect();
        }
        for (c, values) in rows.columns.iter_mut().enumerate() {
            match (values, seen.input) {
                (Values::Numbers(out), SeenInput::Rows { values, n_features }) => {
                    out.extend(values.iter().skip(c).step_by(n_features));
                }
                (Values::Numbers(out), SeenInput::Frame(frame)) => match &frame.columns[c] {
                    Column::Numbers { values, .. } => out.extend(values),
                    Column::Texts(texts) => out.extend(texts.iter().map(|_| f64::NAN)),
                    Column::Mappings(rows) => out.extend(rows.iter().map(|_| f64::NAN)),
                },
                (Values::Texts(out), SeenInput::Frame(frame)) => match &frame.columns[c] {
                    Column::Texts(texts) => {
                        out.extend(texts.iter().map(|t| t.as_deref().map(str::to_owned)));
                    }
                    Column::Numbers { values, .. } => out.extend(values.iter().map(|_| None)),
                    Column::Mappings(rows) => out.extend(rows.iter().map(|_| None)),
                },
                (Values::Texts(out), SeenInput::Rows { .. }) => {
                    out.extend((0..seen.n_rows).map(|_| None));
                }
            }
        }
        rows.n += seen.n_rows;
        match seen.predicted {
            Some(Prediction::Classes(classes)) => {
                for &class in classes {
                    if rows.classes.len() <= class {
                        rows.classes.resize(class + 1, 0);
                    }
                    rows.classes[class] += 1;
                }
            }
            Some(Prediction::Values(values)) if values.ncols() == 1 => {
                rows.values.extend(values.column(0).iter());
            }
            _ => {}
        }
    }
}

/// A time as RFC 3339 in UTC, to the second (`2025-01-31T12:00:00Z`).
pub fn rfc3339(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    // Howard Hinnant's days-to-civil.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn times_are_written_as_rfc3339() {
        let at = |s| rfc3339(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_735_689_599), "2024-12-31T23:59:59Z");
    }
}
