//! TransformedTargetRegressor: its regressor's predictions (a column per output) through its
//! fitted target transformer's `inverse_transform`: a scaler's operations undone, or the
//! FunctionTransformer its `func`/`inverse_func` made (numpy ufuncs, see
//! `preprocessing::ufunc`); one value per row when it was fitted on a 1-D target.

use ndarray::{Array2, ArrayView2};

use super::member::{Member, Read, Route, assemble, outputs_of};
use super::{Built, built};
use crate::model::LoadError;
use crate::model::compose::{Step, StepReader};
use crate::model::estimator::{Method, Prediction, Predictor, Target, Transformer};
use crate::model::state::State;

#[derive(Debug)]
pub struct TransformedTarget {
    n_features: usize,
    regressor: Member,
    transformer: Box<dyn Transformer>,
    n_outputs: usize,
    one_d: bool,
}

pub fn read(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<Built, LoadError> {
    let regressor = state.get("regressor_")?;
    let width = super::input_width(state, width, regressor, reader)?;
    let model =
        super::member::read_model(state, reader, "regressor_", regressor, "regressor_", width)?;
    let assembled = assemble(
        &state.label(),
        width,
        vec![Read {
            name: "regressor_".into(),
            model,
            columns: None,
        }],
        false,
    )?;
    let regressor = assembled.members.into_iter().next().expect("one member");
    let (n_outputs, _) = outputs_of(
        state,
        "regressor_",
        &regressor.name,
        regressor.predictor.as_ref(),
    )?;
    let path = state.path.join("transformer_");
    let transformer = match reader.read(state.get("transformer_")?, &path, Some(n_outputs))? {
        Step::Transformer(t) => t,
        _ => return Err(state.malformed("transformer_", "is not a transformer")),
    };
    if transformer.n_features_in() != n_outputs
        || transformer.sources().len() != n_outputs
        || transformer
            .inverse_transform(Array2::zeros((1, n_outputs)))
            .is_none()
    {
        return Err(LoadError::Unsupported(format!(
            "step {path} ({}): skserve cannot invert it on the regressor's {n_outputs} output(s)",
            transformer.class()
        )));
    }
    let one_d = match state.count("_training_dim")? {
        Some(1) => true,
        Some(2) | None => false,
        Some(other) => return Err(state.malformed("_training_dim", format!("is {other}"))),
    };
    if one_d && n_outputs != 1 {
        return Err(state.malformed(
            "_training_dim",
            format!("is 1 but the regressor predicts {n_outputs} outputs"),
        ));
    }
    let n_features = match (&assembled.fan, &regressor.route) {
        (Some(_), Route::Range(_, end)) => *end,
        _ => width,
    };
    let model = TransformedTarget {
        n_features,
        regressor,
        transformer,
        n_outputs,
        one_d,
    };
    Ok(built(assembled.fan, Box::new(model)))
}

impl Predictor for TransformedTarget {
    fn class(&self) -> &'static str {
        crate::model::allow::SkClass::TransformedTargetRegressor.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        Target::Values {
            n_outputs: self.n_outputs,
            one_d: self.one_d,
        }
    }

    fn methods(&self) -> Vec<Method> {
        vec![Method::Predict]
    }

    fn accepts_missing(&self) -> bool {
        self.regressor.predictor.accepts_missing()
    }

    fn float32_input(&self) -> bool {
        self.regressor.predictor.float32_input()
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        let Prediction::Values(values) = self.regressor.predict(x) else {
            unreachable!("a regressor's")
        };
        let n = values.nrows();
        Prediction::Values(
            self.transformer
                .inverse_transform(values)
                .unwrap_or_else(|| Array2::from_elem((n, self.n_outputs), f64::NAN)),
        )
    }

    fn describe(&self) -> serde_json::Value {
        let names: Vec<String> = (0..self.n_outputs).map(|i| format!("y{i}")).collect();
        serde_json::json!({
            "class": self.class(),
            "regressor": self.regressor.describe(),
            "transformer": self.transformer.describe(&names),
        })
    }
}
