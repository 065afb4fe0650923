//! A model's reference profile (`NAME.profile.json`, written by `skserve profile`): for every
//! input column the distribution of the rows the model was made for, binned, and the
//! distribution of its predictions on them; checked against the model it is loaded with. Model
//! health (`crate::health`) measures data quality and drift against it.
//!
//! A profile is refused, with a message, when it cannot describe the model: another model's
//! columns or classes, bin edges that do not increase, shares that do not sum to 1, more bins
//! or bytes than a profile may hold. One made for another version of the same model (its
//! columns and classes, another content hash) is used, and says so. What must not live here:
//! reading the file (`crate::store::profile`), making a profile (`crate::health::profile`).

use serde::{Deserialize, Serialize};

use crate::model::{ColumnKind, Model};
use crate::store::profile::MAX_PROFILE_BYTES;

/// The format `skserve profile` writes.
pub const FORMAT: u32 = 1;
/// The most bins one column's distribution may list (edges + 1, values or categories); every
/// column also has a bin for values outside them and one for missing values.
pub const MAX_BINS: usize = 64;
/// How far from 1 a column's shares may sum (they are written with full precision).
const SHARE_TOLERANCE: f64 = 1e-6;

/// A profile, as written and read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The format, [`FORMAT`].
    pub skserve_profile: u32,
    pub model: ProfiledModel,
    /// The rows it was made of.
    pub rows: u64,
    /// When it was made, RFC 3339 in UTC.
    pub created: String,
    /// One per input column, in the model's order.
    pub columns: Vec<Distribution>,
    /// What the model predicted for those rows: class shares for a classifier, binned values
    /// for a regressor; `null` for a model of several outputs or one that only transforms.
    pub prediction: Option<Distribution>,
}

/// The model a profile was made with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfiledModel {
    /// The model file's content hash (a file's version as skserve serves it).
    pub version: String,
    /// The chain of estimators (`ColumnTransformer>LogisticRegression`).
    pub estimator: String,
}

/// How a distribution's bins are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BinKind {
    /// Numbers cut by `edges` (quantiles of the reference): bin `i` holds `edges[i-1] <= x <
    /// edges[i]`, the first everything below `edges[0]`, the last everything from the last
    /// edge up.
    Numeric,
    /// A few distinct numbers, each its own bin (`values`); any other number is `other`.
    Discrete,
    /// Strings (or class labels), each its own bin (`categories`); any other is `other`.
    Categorical,
}

/// One column's values (or the predictions), binned, with the share of rows in each bin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Distribution {
    pub name: String,
    pub kind: BinKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edges: Vec<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// One per bin listed: `edges.len() + 1`, `values.len()` or `categories.len()`.
    pub shares: Vec<f64>,
    /// Values outside the listed ones (a discrete or categorical column's rarer values).
    #[serde(default)]
    pub other: f64,
    /// Missing values.
    #[serde(default)]
    pub missing: f64,
    /// The smallest and largest number (numeric and discrete columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Every value seen is listed: one not listed was never seen (categorical columns).
    #[serde(default)]
    pub complete: bool,
}

impl Distribution {
    /// The number of bins listed (without `other` and `missing`).
    pub fn listed(&self) -> usize {
        match self.kind {
            BinKind::Numeric => self.edges.len() + 1,
            BinKind::Discrete => self.values.len(),
            BinKind::Categorical => self.categories.len(),
        }
    }

    /// Every bin's share: the listed ones, then `other`, then `missing`.
    pub fn all_shares(&self) -> Vec<f64> {
        let mut shares = self.shares.clone();
        shares.extend([self.other, self.missing]);
        shares
    }

    fn check(&self, what: &str) -> Result<(), String> {
        let listed = self.listed();
        if listed > MAX_BINS {
            return Err(format!(
                "{what} lists {listed} bins, more than a profile may ({MAX_BINS})"
            ));
        }
        let lists = [
            ("edges", self.edges.len(), self.kind == BinKind::Numeric),
            ("values", self.values.len(), self.kind == BinKind::Discrete),
            (
                "categories",
                self.categories.len(),
                self.kind == BinKind::Categorical,
            ),
        ];
        for (field, len, allowed) in lists {
            if len > 0 && !allowed {
                return Err(format!("{what} is {:?} but has {field}", self.kind));
            }
        }
        for (field, numbers) in [("edges", &self.edges), ("values", &self.values)] {
            if let Some(i) = numbers.iter().position(|v| !v.is_finite()) {
                return Err(format!("{what}: {field}[{i}] is not a finite number"));
            }
            if let Some(i) = numbers.windows(2).position(|w| w[0] >= w[1]) {
                return Err(format!(
                    "{what}: {field} do not increase ({field}[{i}] = {}, {field}[{}] = {})",
                    numbers[i],
                    i + 1,
                    numbers[i + 1]
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = self.categories.iter().find(|c| !seen.insert(c.as_str())) {
            return Err(format!("{what} lists the category {twice:?} twice"));
        }
        if self.shares.len() != listed {
            return Err(format!(
                "{what} has {} shares for {listed} bins",
                self.shares.len()
            ));
        }
        let shares = self.all_shares();
        if let Some(bad) = shares
            .iter()
            .find(|s| !(s.is_finite() && (0.0..=1.0).contains(*s)))
        {
            return Err(format!("{what} has a share of {bad}, not between 0 and 1"));
        }
        let sum: f64 = shares.iter().sum();
        if (sum - 1.0).abs() > SHARE_TOLERANCE {
            return Err(format!(
                "the shares of {what} (other and missing included) sum to {sum}, not 1"
            ));
        }
        if self.kind != BinKind::Categorical {
            match (self.min, self.max) {
                (Some(min), Some(max)) if min.is_finite() && max.is_finite() && min <= max => {}
                // A column with nothing but missing values has no range.
                (None, None) if self.missing >= 1.0 - SHARE_TOLERANCE => {}
                (min, max) => {
                    return Err(format!(
                        "{what} needs a finite min <= max (min {min:?}, max {max:?})"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Why a profile cannot be used with a model.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProfileError(pub String);

/// A profile checked against the model it is loaded with.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    pub profile: Profile,
    /// Made with this very model file (the same content hash).
    pub same_version: bool,
}

impl Profile {
    /// Parses `bytes` and checks them against `model`, whose columns are named `names` and
    /// whose content hash is `version`.
    pub fn parse(
        bytes: &[u8],
        model: &Model,
        names: &[String],
        version: &str,
    ) -> Result<Checked, ProfileError> {
        if bytes.len() as u64 > MAX_PROFILE_BYTES {
            return Err(ProfileError(format!(
                "it holds {} bytes, more than a profile may ({MAX_PROFILE_BYTES})",
                bytes.len()
            )));
        }
        let profile: Profile = serde_json::from_slice(bytes)
            .map_err(|e| ProfileError(format!("not a profile skserve reads: {e}")))?;
        profile.check(model, names)?;
        let same_version = profile.model.version == version;
        Ok(Checked {
            profile,
            same_version,
        })
    }

    /// Checks that the profile describes `model`, whose columns are named `names`: its
    /// columns, their kinds and its classes, and that every distribution is well formed.
    pub fn check(&self, model: &Model, names: &[String]) -> Result<(), ProfileError> {
        let error = |m: String| Err(ProfileError(m));
        if self.skserve_profile != FORMAT {
            return error(format!(
                "skserve_profile is {}; this skserve reads format {FORMAT}",
                self.skserve_profile
            ));
        }
        let theirs: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        let ours: Vec<&str> = names.iter().map(String::as_str).collect();
        if theirs != ours {
            return error(format!(
                "it was made for another model: it describes {} columns ({}), the model takes \
                 {} ({})",
                theirs.len(),
                shortened(&theirs),
                ours.len(),
                shortened(&ours)
            ));
        }
        if self.rows == 0 {
            return error("it was made of no rows".into());
        }
        for (column, input) in self.columns.iter().zip(&model.input().columns) {
            let what = format!("column '{}'", column.name);
            let fits = match input.kind {
                ColumnKind::Text => column.kind == BinKind::Categorical,
                ColumnKind::Number => column.kind != BinKind::Categorical,
                ColumnKind::Unused | ColumnKind::Mapping => true,
            };
            if !fits {
                return error(format!(
                    "it was made for another model: {what} is {:?} in the profile, but the \
                     model takes {}",
                    column.kind,
                    input.kind.describe()
                ));
            }
            column.check(&what).map_err(ProfileError)?;
        }
        match (&self.prediction, model.classes()) {
            (None, _) => {}
            (Some(prediction), Some(classes)) => {
                let labels: Vec<String> = (0..classes.len())
                    .map(|i| classes.label(i).to_string())
                    .collect();
                if prediction.kind != BinKind::Categorical || prediction.categories != labels {
                    return error(format!(
                        "it was made for another model: its predictions are {:?} {:?}, the \
                         model's classes {labels:?}",
                        prediction.kind, prediction.categories
                    ));
                }
                prediction.check("the prediction").map_err(ProfileError)?;
            }
            (Some(prediction), None) => {
                if prediction.kind == BinKind::Categorical {
                    return error(
                        "it was made for another model: its predictions are classes, the \
                         model's are values"
                            .into(),
                    );
                }
                prediction.check("the prediction").map_err(ProfileError)?;
            }
        }
        Ok(())
    }
}

/// At most eight names, for a message.
fn shortened(names: &[&str]) -> String {
    let mut out: Vec<String> = names.iter().take(8).map(|n| format!("{n:?}")).collect();
    if names.len() > 8 {
        out.push("…".into());
    }
    out.join(", ")
}

/// What a model has by way of a profile: none, one checked, or one refused.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum ProfileStatus {
    /// None beside the model, and none named.
    #[default]
    Absent,
    Loaded {
        profile: std::sync::Arc<Profile>,
        /// The file or object it was read from.
        location: String,
        /// Made with this very model file; if not, used all the same (and said so).
        same_version: bool,
    },
    /// Found but unusable: the model serves, and health falls back on a reference window.
    Refused { location: String, error: String },
}

impl ProfileStatus {
    /// The status of a profile read with a model: checked against it, logged when refused or
    /// made for another version. `version` is the model's content hash.
    pub fn of(
        fetched: Option<&crate::store::FetchedProfile>,
        model_name: &str,
        model: &Model,
        names: &[String],
        version: &str,
    ) -> Self {
        let Some(fetched) = fetched else {
            return Self::Absent;
        };
        let location = fetched.location.clone();
        let checked = match &fetched.bytes {
            Ok(bytes) => Profile::parse(bytes, model, names, version).map_err(|e| e.0),
            Err(message) => Err(message.clone()),
        };
        match checked {
            Ok(Checked {
                profile,
                same_version,
            }) => {
                if !same_version {
                    tracing::warn!(
                        model = model_name,
                        profile = location,
                        profile_version = profile.model.version,
                        version,
                        "the profile was made for another version of the model; using it"
                    );
                }
                Self::Loaded {
                    profile: std::sync::Arc::new(profile),
                    location,
                    same_version,
                }
            }
            Err(error) => {
                tracing::error!(
                    model = model_name,
                    profile = location,
                    "refusing the profile, the model serves without it: {error}"
                );
                Self::Refused { location, error }
            }
        }
    }
}
