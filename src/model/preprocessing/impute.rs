//! SimpleImputer (mean, median, most_frequent, constant; `add_indicator`) and MissingIndicator,
//! as their `transform` computes them: the mask of missing values (`missing_values`: NaN or
//! None, a number or a string), features whose statistic is NaN dropped (unless
//! `keep_empty_features`, and before 1.2 never for `constant`), the statistic written where
//! the mask is set, rounded to the data's dtype, then the indicator's columns.

use std::sync::Arc;

use ndarray::Array2;

use super::categories::positions;
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Problem, Refusal, Transformer};
use crate::model::input::{Cell, Column, ColumnKind, Dtype, Frame};
use crate::model::state::{State, number_of};
use crate::model::value::{Elements, Value};

/// What counts as missing (`missing_values`).
#[derive(Clone, Debug, PartialEq)]
enum Marker {
    /// `np.nan`, `None`: the client's missing value.
    Missing,
    Number(f64),
    Text(String),
}

impl Marker {
    fn read(state: &State<'_>) -> Result<Self, LoadError> {
        match state.attr("missing_values") {
            None | Some(Value::None) => Ok(Self::Missing),
            Some(Value::Float(v)) if v.is_nan() => Ok(Self::Missing),
            Some(v) => {
                if let Some(s) = state.heap.str(v) {
                    return Ok(Self::Text(s.to_owned()));
                }
                number_of(state.heap, v)
                    .map(|n| {
                        if n.is_nan() {
                            Self::Missing
                        } else {
                            Self::Number(n)
                        }
                    })
                    .ok_or_else(|| {
                        state.unsupported(
                            "missing_values is neither a number, a string, NaN nor None",
                        )
                    })
            }
        }
    }

    #[inline]
    fn matches(&self, cell: Cell<'_>) -> bool {
        match (self, cell) {
            (Self::Missing, Cell::Missing) => true,
            (Self::Number(m), Cell::Number(v)) => v == *m,
            (Self::Text(m), Cell::Text(s)) => s == m,
            _ => false,
        }
    }
}

/// Whether the imputer at `state` takes NaN (or None), the client's missing value, as its
/// `missing_values`.
pub fn marks_nan(state: &State<'_>) -> Result<bool, LoadError> {
    Ok(Marker::read(state)? == Marker::Missing)
}

/// Refuses the first infinite value of `x`, as an imputer's `check_array` (NaN allowed) does.
pub fn refuse_infinite(x: &Array2<f64>, step: &str, class: &str) -> Result<(), Refusal> {
    if let Some(values) = x.as_slice()
        && values.iter().fold(true, |ok, v| ok & !v.is_infinite())
    {
        return Ok(());
    }
    match x.indexed_iter().find(|(_, v)| v.is_infinite()) {
        Some(((row, feature), _)) => Err(Refusal {
            row,
            feature,
            problem: Problem::NoAnswer {
                step: step.to_owned(),
                reason: format!("an infinite value is not a number {class} takes"),
            },
        }),
        None => Ok(()),
    }
}

/// The statistics a SimpleImputer fills with.
#[derive(Clone, Debug, PartialEq)]
enum Statistics {
    Numbers(Vec<f64>),
    /// Strings (most_frequent or constant on an object column); `None` for an empty feature.
    Texts(Vec<Option<Arc<str>>>),
}

/// A fitted MissingIndicator (alone, or inside a SimpleImputer).
#[derive(Clone, Debug, PartialEq)]
pub struct MissingIndicator {
    label: String,
    n_features: usize,
    /// `features_`: the features it reports, in order.
    features: Vec<usize>,
    marker: Marker,
    /// A missing value in a feature not reported is refused (`error_on_new`).
    error_on_new: bool,
    /// `features="all"`: every feature is reported, whether training saw it missing or not.
    all: bool,
}

impl MissingIndicator {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        let n = state
            .count("_n_features")?
            .or(state.count("n_features_in_")?)
            .ok_or_else(|| state.malformed("_n_features", "is missing"))?;
        state.check_n_features(n, "_n_features")?;
        let features = positions(state, "features_", state.get("features_")?, n)?;
        let all = state.text("features") == Some("all");
        Ok(Self {
            label: state.label(),
            n_features: n,
            features,
            marker: Marker::read(state)?,
            error_on_new: !all && state.bool_or("error_on_new", true)?,
            all,
        })
    }

    /// The `indicator_` of an imputer of `n` features (its `add_indicator`), if it has one.
    pub fn of_imputer(state: &State<'_>, n: usize) -> Result<Option<Self>, LoadError> {
        let value = match state.attr("indicator_") {
            None | Some(Value::None) => {
                if state.bool_or("add_indicator", false)? {
                    return Err(
                        state.malformed("indicator_", "is missing but add_indicator is set")
                    );
                }
                return Ok(None);
            }
            Some(value) => value,
        };
        let inner = State::of(state.heap, value, &state.path.join("indicator_"))?;
        if inner.class != SkClass::MissingIndicator {
            return Err(state.malformed(
                "indicator_",
                format!("is {}, not a MissingIndicator", inner.class.name()),
            ));
        }
        let indicator = Self::read(&inner)?;
        if indicator.n_features != n {
            return Err(state.malformed(
                "indicator_",
                format!("watches {} features, not {n}", indicator.n_features),
            ));
        }
        Ok(Some(indicator))
    }

    /// An imputer's output, followed by the columns of its indicator (if it has one) for
    /// `mask`, the input's missing values.
    pub fn after(
        indicator: Option<&Self>,
        imputed: Data,
        mask: &Array2<bool>,
    ) -> Result<Data, Refusal> {
        Ok(match indicator {
            None => imputed,
            Some(indicator) => {
                let n_rows = imputed.n_rows();
                Data::hstack(
                    vec![
                        imputed,
                        Data::Numbers {
                            values: indicator.columns(mask)?,
                            dtype: Dtype::Bool,
                        },
                    ],
                    n_rows,
                )
            }
        })
    }

    /// How many input features it watches.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The indicator columns from the mask of missing values (rows × n_features).
    pub fn columns(&self, mask: &Array2<bool>) -> Result<Array2<f64>, Refusal> {
        if self.error_on_new {
            let mut watched = vec![false; mask.ncols()];
            for &f in &self.features {
                watched[f] = true;
            }
            for ((row, feature), &missing) in mask.indexed_iter() {
                if missing && !watched[feature] {
                    return Err(Refusal {
                        row,
                        feature,
                        problem: Problem::Missing {
                            step: format!("{} (it saw none there in training)", self.label),
                        },
                    });
                }
            }
        }
        let mut out = Array2::zeros((mask.nrows(), self.features.len()));
        for (mut o, missing) in out.rows_mut().into_iter().zip(mask.rows()) {
            for (o, &f) in o.iter_mut().zip(&self.features) {
                *o = f64::from(u8::from(missing[f]));
            }
        }
        Ok(out)
    }
}

fn mask_of(data: &Data, marker: &Marker) -> Array2<bool> {
    Array2::from_shape_fn((data.n_rows(), data.n_columns()), |(r, c)| {
        marker.matches(data.cell(r, c))
    })
}

impl Transformer for MissingIndicator {
    fn class(&self) -> &'static str {
        SkClass::MissingIndicator.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn sources(&self) -> Vec<usize> {
        self.features.clone()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        self.features
            .iter()
            .map(|&f| format!("missingindicator_{}", input[f]))
            .collect()
    }

    fn needs(&self) -> Vec<Needs> {
        let kind = if matches!(self.marker, Marker::Text(_)) {
            ColumnKind::Text
        } else {
            ColumnKind::Number
        };
        vec![Needs::Kind(kind); self.n_features]
    }

    fn fitted_missing(&self, feature: usize) -> Option<bool> {
        // With features="all", or a marker other than the client's missing value, `features_`
        // says nothing of missing values in training.
        (!self.all && self.marker == Marker::Missing).then(|| self.features.contains(&feature))
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let mask = mask_of(&data, &self.marker);
        Ok(Data::Numbers {
            values: self.columns(&mask)?,
            dtype: Dtype::Bool,
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": "MissingIndicator",
            "columns": self.features.iter().map(|&f| &input[f]).collect::<Vec<_>>(),
        })
    }
}

/// A fitted SimpleImputer.
#[derive(Clone, Debug, PartialEq)]
pub struct SimpleImputer {
    label: String,
    strategy: String,
    statistics: Statistics,
    marker: Marker,
    /// The features kept (those whose statistic is not NaN, or all).
    kept: Vec<usize>,
    indicator: Option<MissingIndicator>,
}

impl SimpleImputer {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        let strategy = state.text("strategy").unwrap_or("mean").to_owned();
        if !matches!(
            strategy.as_str(),
            "mean" | "median" | "most_frequent" | "constant"
        ) {
            return Err(state.unsupported(format!("strategy={strategy:?} is not served")));
        }
        let array = state.array("statistics_")?;
        if array.shape.len() != 1 {
            return Err(state.malformed(
                "statistics_",
                format!("has shape {:?}, expected one dimension", array.shape),
            ));
        }
        state.charge_copy("statistics_", array)?;
        let statistics =
            match &array.elements {
                Elements::Object(values) => {
                    let texts = values
                        .iter()
                        .map(|v| match v {
                            Value::Float(f) if f.is_nan() => Some(None),
                            Value::None => Some(None),
                            other => state.heap.str(*other).map(|s| Some(Arc::from(s))),
                        })
                        .collect::<Option<Vec<_>>>();
                    match texts {
                        Some(texts) => Statistics::Texts(texts),
                        None => Statistics::Numbers(
                            values
                                .iter()
                                .map(|v| number_of(state.heap, *v))
                                .collect::<Option<Vec<_>>>()
                                .ok_or_else(|| {
                                    state.malformed("statistics_", "mixes strings and numbers")
                                })?,
                        ),
                    }
                }
                Elements::Str(v) => {
                    Statistics::Texts(v.iter().map(|s| Some(Arc::from(s.as_str()))).collect())
                }
                _ => Statistics::Numbers(array.to_f64().ok_or_else(|| {
                    state.malformed("statistics_", "is neither numeric nor strings")
                })?),
            };
        let n = array.len();
        state.check_n_features(n, "statistics_")?;
        if let Statistics::Numbers(v) = &statistics
            && let Some(i) = v.iter().position(|x| x.is_infinite())
        {
            return Err(state.malformed(&format!("statistics_[{i}]"), "is infinite"));
        }
        // Before 1.2 a constant strategy kept every feature; since, only keep_empty_features
        // does, and empty features are then filled with a real value.
        let keep_all = state.bool_or("keep_empty_features", false)?
            || (strategy == "constant" && !state.has("keep_empty_features"));
        let kept = (0..n)
            .filter(|&i| {
                keep_all
                    || match &statistics {
                        Statistics::Numbers(v) => !v[i].is_nan(),
                        Statistics::Texts(v) => v[i].is_some(),
                    }
            })
            .collect();
        let indicator = if state.bool_or("add_indicator", false)? {
            let value = state.get("indicator_")?;
            let inner = State::of(state.heap, value, &state.path.join("indicator_"))?;
            if inner.class != SkClass::MissingIndicator {
                return Err(state.malformed("indicator_", "is not a MissingIndicator"));
            }
            let indicator = MissingIndicator::read(&inner)?;
            if indicator.n_features != n {
                return Err(state.malformed(
                    "indicator_",
                    format!(
                        "describes {} features, the imputer {n}",
                        indicator.n_features
                    ),
                ));
            }
            Some(indicator)
        } else {
            None
        };
        Ok(Self {
            label: state.label(),
            strategy,
            statistics,
            marker: Marker::read(state)?,
            kept,
            indicator,
        })
    }

    /// The input features its output keeps, in order (the indicator's columns follow).
    pub fn kept(&self) -> &[usize] {
        &self.kept
    }

    /// Whether it fills numbers where a value is NaN (or None), and adds no indicator: the
    /// initial imputation of an IterativeImputer.
    pub fn fills_numbers_at_nan(&self) -> bool {
        matches!(self.statistics, Statistics::Numbers(_))
            && self.marker == Marker::Missing
            && self.indicator.is_none()
    }

    fn n(&self) -> usize {
        match &self.statistics {
            Statistics::Numbers(v) => v.len(),
            Statistics::Texts(v) => v.len(),
        }
    }
}

impl Transformer for SimpleImputer {
    fn class(&self) -> &'static str {
        SkClass::SimpleImputer.name()
    }

    fn n_features_in(&self) -> usize {
        self.n()
    }

    fn sources(&self) -> Vec<usize> {
        let mut out = self.kept.clone();
        if let Some(indicator) = &self.indicator {
            out.extend(&indicator.features);
        }
        out
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        let mut out: Vec<String> = self.kept.iter().map(|&i| input[i].clone()).collect();
        if let Some(indicator) = &self.indicator {
            out.extend(indicator.feature_names_out(input));
        }
        out
    }

    fn needs(&self) -> Vec<Needs> {
        let kind = match self.statistics {
            Statistics::Texts(_) => ColumnKind::Text,
            Statistics::Numbers(_) => ColumnKind::Number,
        };
        vec![Needs::Kind(kind); self.n()]
    }

    fn fitted_missing(&self, feature: usize) -> Option<bool> {
        self.indicator.as_ref()?.fitted_missing(feature)
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let mask = mask_of(&data, &self.marker);
        let indicator = match &self.indicator {
            Some(indicator) => Some(indicator.columns(&mask)?),
            None => None,
        };
        let n_rows = data.n_rows();
        let imputed = match &self.statistics {
            Statistics::Numbers(stats) => {
                // mean and median convert to float (FLOAT_DTYPES); the others keep the dtype.
                let float = matches!(self.strategy.as_str(), "mean" | "median");
                let (values, dtype) = if float {
                    data.into_floats(&self.label)?
                } else {
                    data.into_numbers(&self.label)?
                };
                let fills: Vec<f64> = self.kept.iter().map(|&f| dtype.round(stats[f])).collect();
                let mut out = Array2::zeros((n_rows, self.kept.len()));
                for ((mut o, x), missing) in out
                    .rows_mut()
                    .into_iter()
                    .zip(values.rows())
                    .zip(mask.rows())
                {
                    for ((o, &f), &fill) in o.iter_mut().zip(&self.kept).zip(&fills) {
                        *o = if missing[f] { fill } else { x[f] };
                    }
                }
                Data::Numbers { values: out, dtype }
            }
            Statistics::Texts(stats) => {
                let columns = self
                    .kept
                    .iter()
                    .map(|&f| {
                        Column::Texts(
                            (0..n_rows)
                                .map(|row| {
                                    if mask[[row, f]] {
                                        return stats[f].clone();
                                    }
                                    match data.cell(row, f) {
                                        Cell::Text(s) => Some(Arc::from(s)),
                                        _ => None,
                                    }
                                })
                                .collect(),
                        )
                    })
                    .collect();
                Data::Frame(Frame { n_rows, columns })
            }
        };
        Ok(match indicator {
            None => imputed,
            Some(values) => Data::hstack(
                vec![
                    imputed,
                    Data::Numbers {
                        values,
                        dtype: Dtype::Bool,
                    },
                ],
                n_rows,
            ),
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        let statistics: Vec<serde_json::Value> = match &self.statistics {
            Statistics::Numbers(v) => v.iter().map(|x| serde_json::json!(x)).collect(),
            Statistics::Texts(v) => v.iter().map(|x| serde_json::json!(x.as_deref())).collect(),
        };
        serde_json::json!({
            "class": "SimpleImputer",
            "strategy": self.strategy,
            "columns": input,
            "statistics": statistics,
            "add_indicator": self.indicator.is_some(),
        })
    }
}
