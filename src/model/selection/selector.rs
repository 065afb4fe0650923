//! What every selector becomes: [`Selector`], the columns its mask keeps, strings among them
//! (`check_array(dtype=None)` keeps a DataFrame's values), a missing value anywhere refused
//! unless the selector allows one (VarianceThreshold does; the model-based ones as their
//! estimator does). And [`Rfe`], RFE's and RFECV's `predict`: their `estimator_`'s on the
//! columns kept, which a Pipeline may also use as a step that only selects.

use ndarray::{Array2, ArrayView2};

use crate::model::estimator::{
    Attribution, Data, Method, Needs, Prediction, Predictor, Problem, Refusal, Target, Transformer,
};
use crate::model::input::ColumnKind;
use crate::model::state::State;

#[derive(Clone, Debug)]
pub struct Selector {
    class: &'static str,
    label: String,
    n_features: usize,
    keep: Vec<usize>,
    allow_nan: bool,
}

impl Selector {
    pub fn new(state: &State<'_>, keep: Vec<usize>, n_features: usize, allow_nan: bool) -> Self {
        Self {
            class: state.class.name(),
            label: state.label(),
            n_features,
            keep,
            allow_nan,
        }
    }
}

impl Transformer for Selector {
    fn class(&self) -> &'static str {
        self.class
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn sources(&self) -> Vec<usize> {
        self.keep.clone()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        self.keep.iter().map(|&i| input[i].clone()).collect()
    }

    fn needs(&self) -> Vec<Needs> {
        let mut needs = vec![Needs::Kind(ColumnKind::Unused); self.n_features];
        for &i in &self.keep {
            needs[i] = Needs::AsOutput;
        }
        needs
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        if !self.allow_nan
            && let Some((row, feature)) = data.first_missing()
        {
            return Err(Refusal {
                row,
                feature,
                problem: Problem::Missing {
                    step: self.label.clone(),
                },
            });
        }
        Ok(data.select(&self.keep))
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": self.class,
            "columns": input,
            "kept": self.feature_names_out(input),
        })
    }
}

/// RFE and RFECV as the last step: their estimator's answers, on the columns kept (the
/// [`Selector`] before it in the model). It transforms as the selector does.
#[derive(Debug)]
pub struct Rfe {
    selector: Selector,
    inner: Box<dyn Predictor>,
    /// Whether the estimator has no steps of its own, so that what it is given is what
    /// `transform` gives.
    plain: bool,
}

impl Rfe {
    pub fn new(selector: Selector, inner: Box<dyn Predictor>, plain: bool) -> Self {
        Self {
            selector,
            inner,
            plain,
        }
    }
}

impl Predictor for Rfe {
    fn class(&self) -> &'static str {
        self.inner.class()
    }

    fn n_features_in(&self) -> usize {
        self.inner.n_features_in()
    }

    fn target(&self) -> Target<'_> {
        self.inner.target()
    }

    fn methods(&self) -> Vec<Method> {
        let mut methods = self.inner.methods();
        if self.plain && !methods.contains(&Method::Transform) {
            methods.push(Method::Transform);
        }
        methods
    }

    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        match method {
            Method::Transform if self.plain => Some(x.to_owned()),
            other => self.inner.values(other, x),
        }
    }

    fn width(&self, method: Method) -> usize {
        match method {
            Method::Transform => self.selector.keep.len(),
            other => self.inner.width(other),
        }
    }

    fn accepts_missing(&self) -> bool {
        self.inner.accepts_missing()
    }

    fn float32_input(&self) -> bool {
        self.inner.float32_input()
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        self.inner.predict(x)
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        self.inner.predict_proba(x)
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        self.inner.decision_function(x)
    }

    fn has_predict_proba(&self) -> bool {
        self.inner.has_predict_proba()
    }

    fn predict_with_proba(&self, x: ArrayView2<'_, f64>) -> (Prediction, Option<Array2<f64>>) {
        self.inner.predict_with_proba(x)
    }

    /// Its estimator's explanation: the columns it drops take no part.
    fn attribution(
        &self,
        row: ndarray::ArrayView1<'_, f64>,
        predicted: Option<usize>,
    ) -> Option<Attribution> {
        self.inner.attribution(row, predicted)
    }

    fn as_transformer(&self) -> Option<Box<dyn Transformer>> {
        Some(Box::new(self.selector.clone()))
    }

    fn describe(&self) -> serde_json::Value {
        let mut d = self.inner.describe();
        if let Some(obj) = d.as_object_mut() {
            obj.insert("selected_by".into(), self.selector.class.into());
        }
        d
    }
}
