//! A fitted libsvm model as a [`Predictor`], answering as scikit-learn's `BaseSVC`,
//! `BaseLibSVM` and `OneClassSVM` do:
//! - classifiers: `predict` by libsvm's votes (or, with `break_ties` and more than two classes,
//!   the first maximum of the ovr decision), `decision_function` negated for two classes,
//!   ovo or ovr for more (`_ovr_decision_function`), `predict_proba` by libsvm's coupling;
//! - regressors: libsvm's value;
//! - one-class: `predict` -1/1, `decision_function`, `score_samples` (`decision + offset_`).
//!
//! A linear kernel's decision is linear in the features (`coef_ = dual_coef_ · SV`), so a
//! binary classifier, a regressor and a one-class model of that kernel are explained feature
//! by feature; other kernels and pairwise votes are not.

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::libsvm::{self, LibsvmModel, SvmKernel};
use crate::model::allow::SkClass;
use crate::model::classes::Classes;
use crate::model::estimator::{Attribution, Method, Prediction, Predictor, Target};

/// What the libsvm model was fitted as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SvmKind {
    Svc,
    NuSvc,
    /// SVR and NuSVR.
    Regressor,
    OneClass,
}

/// A fitted SVM.
#[derive(Clone, Debug, PartialEq)]
pub struct Svm {
    pub class: SkClass,
    pub kind: SvmKind,
    pub model: LibsvmModel,
    /// The classes of a classifier; `[-1, 1]` for a one-class model.
    pub classes: Classes,
    /// `_probA` and `_probB`, when fitted with `probability=True`.
    pub probability: Option<(Vec<f64>, Vec<f64>)>,
    /// `decision_function_shape='ovo'`.
    pub ovo: bool,
    pub break_ties: bool,
    /// A one-class model's `offset_`.
    pub offset: Option<f64>,
}

impl Svm {
    fn is_classifier(&self) -> bool {
        matches!(self.kind, SvmKind::Svc | SvmKind::NuSvc)
    }

    fn n_pairs(&self) -> usize {
        let k = self.classes.len();
        k * (k - 1) / 2
    }

    /// Calls `f` with each row's kernel values.
    fn each_row(&self, x: ArrayView2<'_, f64>, mut f: impl FnMut(usize, &[f64])) {
        let mut kernel = vec![0.0; self.model.n_support_vectors()];
        let mut buffer = Vec::new();
        for (i, row) in x.rows().into_iter().enumerate() {
            let row = match row.as_slice() {
                Some(slice) => slice,
                None => {
                    buffer.clear();
                    buffer.extend(row.iter().copied());
                    &buffer
                }
            };
            self.model.kernel_values(row, &mut kernel);
            f(i, &kernel);
        }
    }

    /// libsvm's decision values (a classifier's pairs, or the one value of the others), rows
    /// × `n_pairs`, with the class libsvm's votes choose for each row.
    fn raw(&self, x: ArrayView2<'_, f64>) -> (Array2<f64>, Vec<usize>) {
        let width = if self.is_classifier() {
            self.n_pairs()
        } else {
            1
        };
        let mut out = Array2::zeros((x.nrows(), width));
        let mut voted = Vec::with_capacity(x.nrows());
        let flat = out.as_slice_mut().expect("a new array is contiguous");
        self.each_row(x, |i, kernel| {
            let row = &mut flat[i * width..(i + 1) * width];
            if self.is_classifier() {
                voted.push(self.model.pairwise(kernel, row));
            } else {
                row[0] = self.model.value(kernel);
            }
        });
        (out, voted)
    }

    /// `decision_function` as scikit-learn shapes it.
    fn decision(&self, raw: &Array2<f64>) -> Array2<f64> {
        let k = self.classes.len();
        if !self.is_classifier() {
            return raw.clone();
        }
        if k == 2 {
            return raw.mapv(|d| -d);
        }
        if self.ovo {
            return raw.clone();
        }
        let mut out = Array2::zeros((raw.nrows(), k));
        for (d, mut o) in raw.rows().into_iter().zip(out.rows_mut()) {
            let o = o.as_slice_mut().expect("a new array is contiguous");
            libsvm::ovr_decision(d.as_slice().expect("contiguous"), o);
        }
        out
    }

    fn labels(&self, raw: &Array2<f64>, voted: Vec<usize>) -> Prediction {
        match self.kind {
            SvmKind::Regressor => Prediction::Values(raw.clone()),
            // libsvm: +1 when the value is positive, else -1 (index 1 and 0 of [-1, 1]).
            SvmKind::OneClass => {
                Prediction::Classes(raw.iter().map(|&d| usize::from(d > 0.0)).collect())
            }
            _ if self.break_ties && !self.ovo && self.classes.len() > 2 => {
                let ovr = self.decision(raw);
                Prediction::Classes(ovr.rows().into_iter().map(first_max).collect())
            }
            _ => Prediction::Classes(voted),
        }
    }

    fn proba(&self, raw: &Array2<f64>) -> Option<Array2<f64>> {
        let (a, b) = self.probability.as_ref()?;
        let k = self.classes.len();
        let mut out = Array2::zeros((raw.nrows(), k));
        for (d, mut o) in raw.rows().into_iter().zip(out.rows_mut()) {
            let o = o.as_slice_mut().expect("a new array is contiguous");
            libsvm::probabilities(d.as_slice().expect("contiguous"), a, b, o);
        }
        Some(out)
    }

    /// `coef_` of a linear kernel for the one decision explained: `Σ coef · sv`, as
    /// `_dual_coef_ @ support_vectors_` (negated for a binary classifier, as scikit-learn
    /// presents it).
    fn linear_weights(&self) -> Option<Vec<f64>> {
        let linear = self.model.kernel == SvmKernel::Linear;
        if !linear || (self.is_classifier() && self.classes.len() != 2) {
            return None;
        }
        let n = self.model.n_features;
        let mut w = vec![0.0; n];
        for (c, sv) in self
            .model
            .dual_coef
            .iter()
            .zip(self.model.support_vectors.chunks_exact(n))
        {
            for (w, v) in w.iter_mut().zip(sv) {
                *w += c * v;
            }
        }
        if self.is_classifier() {
            w.iter_mut().for_each(|v| *v = -*v);
        }
        Some(w)
    }
}

/// numpy's `argmax`: the first maximum.
fn first_max(row: ArrayView1<'_, f64>) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

impl Predictor for Svm {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.model.n_features
    }

    fn target(&self) -> Target<'_> {
        match self.kind {
            SvmKind::Regressor => Target::Values {
                n_outputs: 1,
                one_d: true,
            },
            _ => Target::Classes(&self.classes),
        }
    }

    fn methods(&self) -> Vec<Method> {
        let mut methods = vec![Method::Predict];
        if self.probability.is_some() {
            methods.push(Method::PredictProba);
        }
        if self.kind != SvmKind::Regressor {
            methods.push(Method::DecisionFunction);
        }
        if self.kind == SvmKind::OneClass {
            methods.push(Method::ScoreSamples);
        }
        methods
    }

    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        match method {
            Method::PredictProba => self.predict_proba(x),
            Method::DecisionFunction => self.decision_function(x),
            Method::ScoreSamples => {
                let offset = self.offset?;
                let (raw, _) = self.raw(x);
                Some(raw.mapv(|d| d + offset))
            }
            _ => None,
        }
    }

    fn width(&self, method: Method) -> usize {
        match method {
            Method::DecisionFunction if self.is_classifier() && self.ovo => self.n_pairs(),
            Method::DecisionFunction if self.is_classifier() && self.classes.len() > 2 => {
                self.classes.len()
            }
            Method::DecisionFunction | Method::ScoreSamples | Method::Predict => 1,
            Method::PredictProba => self.classes.len(),
            Method::Transform | Method::PredictStd => 0,
        }
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        let (raw, voted) = self.raw(x);
        self.labels(&raw, voted)
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        if self.kind == SvmKind::Regressor {
            return None;
        }
        let (raw, _) = self.raw(x);
        Some(self.decision(&raw))
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        self.probability.as_ref()?;
        let (raw, _) = self.raw(x);
        self.proba(&raw)
    }

    fn has_predict_proba(&self) -> bool {
        self.probability.is_some()
    }

    fn predict_with_proba(&self, x: ArrayView2<'_, f64>) -> (Prediction, Option<Array2<f64>>) {
        let (raw, voted) = self.raw(x);
        let proba = self.proba(&raw);
        (self.labels(&raw, voted), proba)
    }

    fn attribution(
        &self,
        row: ArrayView1<'_, f64>,
        _predicted: Option<usize>,
    ) -> Option<Attribution> {
        let weights = self.linear_weights()?;
        let row: Vec<f64> = row.iter().copied().collect();
        let (raw, _) = self.raw(ndarray::ArrayView2::from_shape((1, row.len()), &row).ok()?);
        let output = self.decision(&raw)[[0, 0]];
        let base = match self.kind {
            SvmKind::Regressor | SvmKind::OneClass => -self.model.rho[0],
            _ => self.model.rho[0],
        };
        Some(Attribution {
            explained_class: self.is_classifier().then_some(1),
            base,
            contributions: row.iter().zip(&weights).map(|(x, w)| x * w).collect(),
            weights: Some(weights),
            output,
        })
    }

    fn unexplained_because(&self) -> Option<String> {
        if self.model.kernel != SvmKernel::Linear {
            return Some(format!(
                "its {} kernel is not linear in the features",
                serde_json::to_value(&self.model.kernel)
                    .ok()
                    .and_then(|v| v["kernel"].as_str().map(str::to_owned))
                    .unwrap_or_default()
            ));
        }
        (self.is_classifier() && self.classes.len() > 2).then(|| {
            "a classifier of more than two classes decides by the votes of every pair of \
             classes, not by one linear function"
                .to_owned()
        })
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": self.class.name(),
            "n_features_in": self.model.n_features,
            "kernel": self.model.kernel,
            "n_support_vectors": self.model.n_support_vectors(),
            "n_support": self.model.n_support,
            "classes": matches!(self.kind, SvmKind::Svc | SvmKind::NuSvc | SvmKind::OneClass)
                .then(|| self.classes.to_json()),
            "decision_function_shape": self.is_classifier().then_some(if self.ovo { "ovo" } else { "ovr" }),
            "break_ties": self.is_classifier().then_some(self.break_ties),
            "predict_proba": self.probability.is_some(),
        })
    }
}
