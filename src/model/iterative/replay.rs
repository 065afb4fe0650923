//! IterativeImputer's `transform`, as scikit-learn computes it: the mask of missing values
//! taken once from the input; the initial imputation (`initial_imputer_`, features never seen
//! in training dropped, or kept as imputed with `keep_empty_features`); then, unless no round
//! was fitted or every value of the batch is missing, each step of the sequence in order: the
//! rows missing its feature (in the original mask, not the filled data) predicted by its
//! estimator from the current values of its neighbour features, clipped to the feature's
//! bounds and written back, so that later steps read them. The MissingIndicator's columns
//! follow.
//!
//! What must not live here: reading the fitted state (`super`).

use ndarray::{Array2, Axis};

use crate::model::compose::Model;
use crate::model::estimator::{Data, Needs, Prediction, Problem, Refusal, Transformer};
use crate::model::input::{ColumnKind, Dtype};
use crate::model::preprocessing::impute::{MissingIndicator, SimpleImputer, refuse_infinite};

/// Each imputed feature's bounds (`_min_value`, `_max_value`), infinite where unbounded.
#[derive(Debug)]
pub struct Limits {
    pub min: Vec<f64>,
    pub max: Vec<f64>,
}

impl Limits {
    /// No bounds (an imputer that fitted no round keeps none).
    pub fn none(width: usize) -> Self {
        Self {
            min: vec![f64::NEG_INFINITY; width],
            max: vec![f64::INFINITY; width],
        }
    }

    /// `np.clip`: NaN stays NaN.
    fn clip(&self, feature: usize, v: f64) -> f64 {
        if v < self.min[feature] {
            self.min[feature]
        } else if v > self.max[feature] {
            self.max[feature]
        } else {
            v
        }
    }
}

/// One step of the sequence: the imputed feature, the imputed features its estimator reads
/// (positions among the imputed features), the estimator.
#[derive(Debug)]
pub struct Triplet {
    pub feature: usize,
    pub columns: Vec<usize>,
    pub estimator: Model,
}

#[derive(Debug)]
pub struct IterativeImputer {
    pub(super) label: String,
    pub(super) n_features: usize,
    pub(super) initial: SimpleImputer,
    /// The input features imputed (the initial imputer's output), in order.
    pub(super) kept: Vec<usize>,
    /// Per imputed feature: never seen in training and kept as its initial imputation.
    pub(super) empty: Vec<bool>,
    /// Every imputed value counts as missing (1.2 and 1.3 with `keep_empty_features`).
    pub(super) mask_all: bool,
    pub(super) n_iter: usize,
    pub(super) sequence: Vec<Triplet>,
    pub(super) limits: Limits,
    pub(super) indicator: Option<MissingIndicator>,
    /// As fitted, for `inspect` (the sequence is what is replayed).
    pub(super) order: String,
    pub(super) skip_complete: bool,
}

impl IterativeImputer {
    /// The rows missing each imputed feature, as `_initial_imputation` masks them.
    fn mask(&self, complete: &Array2<bool>) -> Array2<bool> {
        let mut mask = complete.select(Axis(1), &self.kept);
        for (k, mut column) in mask.columns_mut().into_iter().enumerate() {
            if self.mask_all || self.empty[k] {
                column.fill(self.mask_all);
            }
        }
        mask
    }

    /// Replays the sequence on `x` (the initial imputation), `mask` its missing values.
    fn replay(
        &self,
        x: &mut Array2<f64>,
        mask: &Array2<bool>,
        dtype: Dtype,
    ) -> Result<(), Refusal> {
        for step in &self.sequence {
            let rows: Vec<usize> = (0..x.nrows())
                .filter(|&r| mask[[r, step.feature]])
                .collect();
            if rows.is_empty() {
                continue;
            }
            let given = x.select(Axis(0), &rows).select(Axis(1), &step.columns);
            let predicted = self.predict(step, given).map_err(|refusal| Refusal {
                row: rows[refusal.row],
                feature: self.kept[step.feature],
                problem: refusal.problem,
            })?;
            for (&r, v) in rows.iter().zip(predicted) {
                x[[r, step.feature]] = dtype.round(self.limits.clip(step.feature, v));
            }
        }
        Ok(())
    }

    /// The step's estimator's `predict` on `given` (its steps first, if it is a Pipeline).
    fn predict(&self, step: &Triplet, given: Array2<f64>) -> Result<Vec<f64>, Refusal> {
        let model = &step.estimator;
        let mut data = Data::Numbers {
            values: given,
            dtype: Dtype::F64,
        };
        for (_, transformer) in &model.transformers {
            data = transformer.transform(data)?;
        }
        let (x, _) = data.into_floats(&self.label)?;
        if let Some(refusal) = model.predictor.refusal(x.view()) {
            return Err(refusal);
        }
        match model.predictor.predict(x.view()) {
            Prediction::Values(values) => Ok(values.column(0).to_vec()),
            // Checked at load: every estimator is a regressor of one output.
            Prediction::Classes(_) | Prediction::MultiClasses(_) => Err(Refusal {
                row: 0,
                feature: 0,
                problem: Problem::NoAnswer {
                    step: self.label.clone(),
                    reason: "an estimator of its sequence did not predict values".into(),
                },
            }),
        }
    }
}

impl Transformer for IterativeImputer {
    fn class(&self) -> &'static str {
        crate::model::allow::SkClass::IterativeImputer.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn sources(&self) -> Vec<usize> {
        let mut out = self.kept.clone();
        if let Some(indicator) = &self.indicator {
            out.extend(indicator.sources());
        }
        out
    }

    fn mixes_features(&self) -> bool {
        true
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        let mut out: Vec<String> = self.kept.iter().map(|&c| input[c].clone()).collect();
        if let Some(indicator) = &self.indicator {
            out.extend(indicator.feature_names_out(input));
        }
        out
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.n_features]
    }

    fn fitted_missing(&self, feature: usize) -> Option<bool> {
        self.indicator.as_ref()?.fitted_missing(feature)
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let (x, dtype) = data.into_floats(&self.label)?;
        refuse_infinite(&x, &self.label, self.class())?;
        let complete = x.mapv(f64::is_nan);
        let initial = self.initial.transform(Data::Numbers { values: x, dtype })?;
        let (mut filled, dtype) = initial.into_floats(&self.label)?;
        let mask = self.mask(&complete);
        // scikit-learn returns the initial imputation when no round was fitted or when every
        // value of the batch is missing.
        if self.n_iter > 0 && !mask.iter().all(|&m| m) {
            self.replay(&mut filled, &mask, dtype)?;
        }
        let imputed = Data::Numbers {
            values: filled,
            dtype,
        };
        MissingIndicator::after(self.indicator.as_ref(), imputed, &complete)
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        let estimators: Vec<&str> = self
            .sequence
            .iter()
            .take(self.sequence.len() / self.n_iter.max(1))
            .map(|step| step.estimator.predictor.class())
            .collect();
        serde_json::json!({
            "class": self.class(),
            "columns": input,
            "n_iter": self.n_iter,
            "imputation_order": self.order,
            "skip_complete": self.skip_complete,
            "estimators": estimators,
            "add_indicator": self.indicator.is_some(),
        })
    }
}
