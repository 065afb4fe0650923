//! Neural networks: MLPClassifier and MLPRegressor (`_forward_pass_fast`: each layer
//! `a · W + b` through the hidden activation, the last through the output activation), and
//! BernoulliRBM as a transformer (`expit(X · components_ᵀ + intercept_hidden_)`). Checked at
//! load: the layers' weights chain (each layer's inputs are the last one's outputs, the first
//! takes the features, the last gives `n_outputs_`), every weight finite, the activations
//! among scikit-learn's, and the output activation fits the target (softmax for several
//! classes, logistic for two or for several labels, identity for a regressor).
//!
//! A classifier labels as its `LabelBinarizer` inverts: the first maximum of several classes,
//! above 0.5 for two classes or for each of several labels.

use ndarray::{Array2, ArrayView2};

use super::LoadError;
use super::allow::SkClass;
use super::classes::{Classes, read_classes};
use super::estimator::{Method, Prediction, Predictor, Target};
use super::fitted;
use super::projection::Projection;
use super::simd::{exp_scaled_in_place, product, wide};
use super::state::State;
use super::tree::math::{argmax, expit, pairwise_sum};
use super::value::Node;

/// Whether `class` is a network this room reads as a predictor.
pub fn reads(class: SkClass) -> bool {
    matches!(class, SkClass::MlpClassifier | SkClass::MlpRegressor)
}

/// Whether `class` is the network this room reads as a transformer.
pub fn reads_transformer(class: SkClass) -> bool {
    class == SkClass::BernoulliRbm
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum Activation {
    Identity,
    Logistic,
    Tanh,
    Relu,
    Softmax,
}

impl Activation {
    fn parse(state: &State<'_>, name: &str, known: &[&str]) -> Result<Self, LoadError> {
        Ok(match fitted::one_of(state, name, known)? {
            "identity" => Self::Identity,
            "logistic" => Self::Logistic,
            "tanh" => Self::Tanh,
            "relu" => Self::Relu,
            _ => Self::Softmax,
        })
    }

    /// In place on rows × units, as scikit-learn's `ACTIVATIONS`.
    fn apply(self, a: &mut Array2<f64>) {
        match self {
            Self::Identity => {}
            Self::Logistic => a.mapv_inplace(expit),
            Self::Tanh => a.mapv_inplace(f64::tanh),
            Self::Relu => a.mapv_inplace(|v| v.max(0.0)),
            // The exponentials of the whole matrix at once (wide), not one call each.
            Self::Softmax => {
                let k = a.ncols();
                if k == 0 {
                    return;
                }
                let flat = a.as_slice_mut().expect("a layer's product is a new array");
                for row in flat.chunks_exact_mut(k) {
                    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    row.iter_mut().for_each(|v| *v -= max);
                }
                exp_scaled_in_place(flat, 1.0);
                for row in flat.chunks_exact_mut(k) {
                    let sum = pairwise_sum(row);
                    row.iter_mut().for_each(|v| *v /= sum);
                }
            }
        }
    }
}

/// What the network's outputs mean.
#[derive(Clone, Debug, PartialEq)]
enum Output {
    /// Two classes from one logistic output, or several from a softmax.
    Classes(Classes),
    /// Each logistic output one label of `[0, 1]`.
    Labels(Vec<Classes>),
    Values {
        n_outputs: usize,
    },
}

/// A fitted multi-layer perceptron.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    class: SkClass,
    /// Each layer's weights (inputs × units) and biases.
    layers: Vec<(Array2<f64>, Vec<f64>)>,
    hidden: Activation,
    out: Activation,
    output: Output,
}

/// Reads the network whose state is `state`.
pub fn read(state: &State<'_>) -> Result<Box<dyn Predictor>, LoadError> {
    let hidden = Activation::parse(
        state,
        "activation",
        &["identity", "logistic", "tanh", "relu"],
    )?;
    let out = Activation::parse(
        state,
        "out_activation_",
        &["identity", "logistic", "softmax"],
    )?;
    let (coefs, intercepts) = (state.items("coefs_")?, state.items("intercepts_")?);
    let n_layers = state
        .count("n_layers_")?
        .ok_or_else(|| state.malformed("n_layers_", "is missing"))?;
    if coefs.is_empty() || coefs.len() + 1 != n_layers || intercepts.len() != coefs.len() {
        return Err(state.malformed(
            "coefs_",
            format!(
                "holds {} layers of weights and intercepts_ {}, but n_layers_ is {n_layers}",
                coefs.len(),
                intercepts.len()
            ),
        ));
    }
    let mut layers = Vec::with_capacity(coefs.len());
    let mut width = None;
    for (i, (&w, &b)) in coefs.iter().zip(intercepts).enumerate() {
        let weights = layer_array(state, "coefs_", i, w)?;
        let (rows, cols) = (weights.0[0], *weights.0.get(1).unwrap_or(&0));
        if weights.0.len() != 2 || width.is_some_and(|w| w != rows) {
            return Err(state.malformed(
                &format!("coefs_[{i}]"),
                match width {
                    Some(w) => format!(
                        "has shape {:?}, but the layer before gives {w} units",
                        weights.0
                    ),
                    None => format!("has shape {:?}, not a matrix", weights.0),
                },
            ));
        }
        let bias = layer_array(state, "intercepts_", i, b)?;
        if bias.0 != [cols] {
            return Err(state.malformed(
                &format!("intercepts_[{i}]"),
                format!("has shape {:?}, expected [{cols}]", bias.0),
            ));
        }
        width = Some(cols);
        let matrix =
            Array2::from_shape_vec((rows, cols), weights.1).expect("the shape was checked");
        layers.push((matrix, bias.1));
    }
    let n_features = layers[0].0.nrows();
    fitted::features(state, n_features, "coefs_[0]")?;
    let n_outputs = width.unwrap_or(0);
    if let Some(stored) = state.count("n_outputs_")?
        && stored != n_outputs
    {
        return Err(state.malformed(
            "n_outputs_",
            format!("is {stored} but the last layer gives {n_outputs}"),
        ));
    }
    let output = match state.class {
        SkClass::MlpRegressor if out == Activation::Identity => Output::Values { n_outputs },
        SkClass::MlpRegressor => {
            return Err(state.malformed("out_activation_", "is not 'identity' for a regressor"));
        }
        _ => classifier_output(state, out, n_outputs)?,
    };
    Ok(Box::new(Mlp {
        class: state.class,
        layers,
        hidden,
        out,
        output,
    }))
}

/// One layer's array, its shape and finite values.
fn layer_array(
    state: &State<'_>,
    name: &str,
    i: usize,
    value: super::value::Value,
) -> Result<(Vec<usize>, Vec<f64>), LoadError> {
    let at = format!("{name}[{i}]");
    let array = state
        .heap
        .array(value)
        .ok_or_else(|| state.malformed(&at, "is not an array"))?;
    let values = array
        .to_f64()
        .ok_or_else(|| state.malformed(&at, "is not numeric"))?;
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(state.malformed(&at, format!("holds {v}")));
    }
    if array.shape.is_empty() {
        return Err(state.malformed(&at, "is a scalar"));
    }
    Ok((array.shape.clone(), values))
}

fn classifier_output(
    state: &State<'_>,
    out: Activation,
    n_outputs: usize,
) -> Result<Output, LoadError> {
    let classes = read_classes(state, "classes_")?;
    let multilabel = match state.attr("_label_binarizer") {
        Some(v) => match state.heap.node(v) {
            Some(Node::Object(_)) => State::of(state.heap, v, &state.path)
                .ok()
                .and_then(|b| b.text("y_type_").map(|t| t == "multilabel-indicator"))
                .unwrap_or(false),
            _ => false,
        },
        None => false,
    };
    let fits = match (out, multilabel) {
        (Activation::Logistic, true) => classes.len() == n_outputs,
        (Activation::Logistic, false) => classes.len() == 2 && n_outputs == 1,
        (Activation::Softmax, false) => classes.len() == n_outputs && n_outputs > 2,
        _ => false,
    };
    if !fits {
        return Err(state.malformed(
            "out_activation_",
            format!(
                "{out:?} with {n_outputs} output(s) does not fit {} classes{}",
                classes.len(),
                if multilabel { " as labels" } else { "" }
            ),
        ));
    }
    Ok(if multilabel {
        Output::Labels(vec![Classes::Int(vec![0, 1]); n_outputs])
    } else {
        Output::Classes(classes)
    })
}

impl Mlp {
    /// `_forward_pass_fast`: the last layer's activation, rows × outputs.
    fn forward(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut a = x.to_owned();
        let last = self.layers.len() - 1;
        for (i, (w, b)) in self.layers.iter().enumerate() {
            a = product(a.view(), w.view());
            if !b.is_empty() {
                let flat = a.as_slice_mut().expect("a layer's product is a new array");
                wide(
                    #[inline(always)]
                    || {
                        for row in flat.chunks_exact_mut(b.len()) {
                            row.iter_mut().zip(b).for_each(|(v, b)| *v += b);
                        }
                    },
                );
            }
            if i != last {
                self.hidden.apply(&mut a);
            }
        }
        self.out.apply(&mut a);
        a
    }

    fn labels(&self, out: &Array2<f64>) -> Prediction {
        match &self.output {
            Output::Values { .. } => Prediction::Values(out.clone()),
            Output::Classes(_) if out.ncols() == 1 => {
                Prediction::Classes(out.iter().map(|&p| usize::from(p > 0.5)).collect())
            }
            Output::Classes(_) => Prediction::Classes(
                out.rows()
                    .into_iter()
                    .map(|r| argmax(r.as_slice().expect("contiguous")))
                    .collect(),
            ),
            Output::Labels(_) => Prediction::MultiClasses(out.mapv(|p| usize::from(p > 0.5))),
        }
    }

    fn proba(&self, out: Array2<f64>) -> Option<Array2<f64>> {
        match &self.output {
            Output::Values { .. } => None,
            Output::Classes(_) if out.ncols() == 1 => {
                Some(Array2::from_shape_fn((out.nrows(), 2), |(i, j)| {
                    if j == 0 {
                        1.0 - out[[i, 0]]
                    } else {
                        out[[i, 0]]
                    }
                }))
            }
            _ => Some(out),
        }
    }
}

impl Predictor for Mlp {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.layers[0].0.nrows()
    }

    fn target(&self) -> Target<'_> {
        match &self.output {
            Output::Classes(classes) => Target::Classes(classes),
            Output::Labels(labels) => Target::MultiClasses(labels),
            Output::Values { n_outputs } => Target::Values {
                n_outputs: *n_outputs,
                one_d: *n_outputs == 1,
            },
        }
    }

    fn methods(&self) -> Vec<Method> {
        match self.output {
            Output::Values { .. } => vec![Method::Predict],
            _ => vec![Method::Predict, Method::PredictProba],
        }
    }

    fn width(&self, method: Method) -> usize {
        match (&self.output, method) {
            (Output::Labels(labels), Method::Predict | Method::PredictProba) => labels.len(),
            (Output::Classes(c), Method::PredictProba) => c.len(),
            (Output::Values { n_outputs }, Method::Predict) => *n_outputs,
            (_, Method::Predict) => 1,
            _ => 0,
        }
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        self.labels(&self.forward(x))
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        self.proba(self.forward(x))
    }

    fn has_predict_proba(&self) -> bool {
        !matches!(self.output, Output::Values { .. })
    }

    fn predict_with_proba(&self, x: ArrayView2<'_, f64>) -> (Prediction, Option<Array2<f64>>) {
        let out = self.forward(x);
        (self.labels(&out), self.proba(out))
    }

    fn unexplained_because(&self) -> Option<String> {
        Some("a network's layers are not additive in the features".into())
    }

    fn describe(&self) -> serde_json::Value {
        let sizes: Vec<usize> = self.layers.iter().map(|(w, _)| w.ncols()).collect();
        serde_json::json!({
            "class": self.class.name(),
            "n_features_in": self.n_features_in(),
            "layer_sizes": sizes,
            "activation": self.hidden,
            "out_activation": self.out,
            "classes": match &self.output {
                Output::Classes(c) => Some(c.to_json()),
                _ => None,
            },
        })
    }
}

/// Reads a BernoulliRBM as the transformer it is.
pub fn read_rbm(state: &State<'_>) -> Result<Projection, LoadError> {
    let components = fitted::matrix(state, "components_", None, None)?;
    let (n_components, d) = components.dim();
    fitted::features(state, d, "components_")?;
    let hidden = fitted::vector(state, "intercept_hidden_", Some(n_components))?;
    Ok(Projection {
        class: state.class.name(),
        label: state.label(),
        center: None,
        matrix: components.reversed_axes(),
        offset: Some(hidden),
        logistic: true,
    })
}
