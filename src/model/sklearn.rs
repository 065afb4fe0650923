//! Reads a fitted scikit-learn estimator out of the unpickled values: its class, `coef_`,
//! `intercept_`, `classes_`, and the attributes that decide how it predicts probabilities in
//! the scikit-learn version that saved it.
//!
//! Everything is validated here (shapes agree, classes are labels, weights are finite) so that
//! prediction never has to check again.

use super::allow::{Callable, SkClass};
use super::linear::{LinearClassifier, ProbaRule};
use super::value::{Elements, Heap, NdArray, Node, Value};

/// Class labels in their original type, as `classes_` holds them.
#[derive(Clone, Debug, PartialEq)]
pub enum Classes {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
    Str(Vec<String>),
}

impl Classes {
    pub fn len(&self) -> usize {
        match self {
            Self::Int(v) => v.len(),
            Self::Float(v) => v.len(),
            Self::Bool(v) => v.len(),
            Self::Str(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn label(&self, index: usize) -> Label<'_> {
        match self {
            Self::Int(v) => Label::Int(v[index]),
            Self::Float(v) => Label::Float(v[index]),
            Self::Bool(v) => Label::Bool(v[index]),
            Self::Str(v) => Label::Str(&v[index]),
        }
    }

    /// The labels as JSON values (numbers, booleans, strings).
    pub fn to_json(&self) -> serde_json::Value {
        (0..self.len()).map(|i| self.label(i).to_json()).collect()
    }
}

/// One class label.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Label<'a> {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(&'a str),
}

impl Label<'_> {
    pub fn to_json(self) -> serde_json::Value {
        match self {
            Self::Int(v) => v.into(),
            Self::Float(v) => v.into(),
            Self::Bool(v) => v.into(),
            Self::Str(v) => v.into(),
        }
    }
}

impl std::fmt::Display for Label<'_> {
    /// As Python's `str()` prints the label.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Int(v) => write!(f, "{v}"),
            Self::Float(v) => write!(f, "{}", crate::model::python_float(*v)),
            Self::Bool(true) => f.write_str("True"),
            Self::Bool(false) => f.write_str("False"),
            Self::Str(v) => f.write_str(v),
        }
    }
}

/// A fitted estimator, read and validated.
#[derive(Clone, Debug)]
pub struct Estimator {
    pub class: SkClass,
    pub linear: LinearClassifier,
    pub classes: Classes,
    pub sklearn_version: Option<String>,
    pub feature_names: Option<Vec<String>>,
}

/// Reads the estimator at `root`.
pub fn read_estimator(heap: &Heap, root: Value) -> Result<Estimator, String> {
    let Some(Node::Object(object)) = heap.node(root) else {
        return Err(format!(
            "the file holds {}, not a scikit-learn estimator",
            describe(heap, root)
        ));
    };
    let class = match &object.class {
        Callable::Class(c) if *c != SkClass::LabelBinarizer => *c,
        other => return Err(format!("unsupported estimator {other}")),
    };
    let attrs: Vec<(&str, Value)> =
        object.state.and_then(|s| heap.str_dict(s)).ok_or_else(|| {
            format!(
                "the {} has no fitted state (was it fitted before saving?)",
                class.name()
            )
        })?;
    let reader = Attrs { heap, attrs, class };

    let classes = match class {
        SkClass::RidgeClassifier | SkClass::RidgeClassifierCv => {
            let binarizer = reader.get("_label_binarizer")?;
            let Some(Node::Object(b)) = heap.node(binarizer) else {
                return Err(
                    "the RidgeClassifier's _label_binarizer is not a LabelBinarizer".into(),
                );
            };
            let attrs = b
                .state
                .and_then(|s| heap.str_dict(s))
                .unwrap_or_default()
                .into_iter()
                .collect();
            Attrs {
                heap,
                attrs,
                class: SkClass::LabelBinarizer,
            }
            .classes()?
        }
        _ => reader.classes()?,
    };
    if classes.len() < 2 {
        return Err(format!(
            "classes_ holds {} class(es); a classifier needs at least 2",
            classes.len()
        ));
    }

    let coef = reader.array("coef_")?;
    let coef_values = coef.to_f64().ok_or("coef_ is not numeric")?;
    let (n_outputs, n_features) = match coef.shape[..] {
        [rows, cols] => (rows, cols),
        [cols] => (1, cols),
        _ => {
            return Err(format!(
                "coef_ has shape {:?}, expected 2 dimensions",
                coef.shape
            ));
        }
    };
    let expected_outputs = if classes.len() == 2 { 1 } else { classes.len() };
    if n_outputs != expected_outputs {
        return Err(format!(
            "coef_ has {n_outputs} row(s) but {} classes need {expected_outputs}",
            classes.len()
        ));
    }
    if n_features == 0 {
        return Err("coef_ has no features".into());
    }
    let intercept = reader.numbers("intercept_")?;
    let intercept = match intercept.len() {
        1 if n_outputs > 1 => vec![intercept[0]; n_outputs],
        n if n == n_outputs => intercept,
        n => {
            return Err(format!(
                "intercept_ has {n} values but coef_ has {n_outputs} row(s)"
            ));
        }
    };
    if coef_values.iter().chain(&intercept).any(|w| !w.is_finite()) {
        return Err("coef_ or intercept_ holds NaN or infinity".into());
    }
    if let Some(Value::Int(n)) = reader.attr("n_features_in_")
        && n as usize != n_features
    {
        return Err(format!(
            "n_features_in_ is {n} but coef_ has {n_features} columns"
        ));
    }

    let proba = reader.proba_rule(classes.len())?;
    let feature_names = reader.feature_names()?;
    if let Some(names) = &feature_names
        && names.len() != n_features
    {
        return Err(format!(
            "feature_names_in_ has {} names for {n_features} features",
            names.len()
        ));
    }
    Ok(Estimator {
        class,
        linear: LinearClassifier {
            coef: coef_values,
            intercept,
            n_features,
            n_outputs,
            n_classes: classes.len(),
            proba,
        },
        classes,
        sklearn_version: reader.text("_sklearn_version").map(str::to_owned),
        feature_names,
    })
}

struct Attrs<'h> {
    heap: &'h Heap<'h>,
    /// The object's `__dict__` (a few dozen entries: a scan beats hashing).
    attrs: Vec<(&'h str, Value)>,
    class: SkClass,
}

impl<'h> Attrs<'h> {
    fn attr(&self, name: &str) -> Option<Value> {
        self.attrs
            .iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
    }

    fn get(&self, name: &str) -> Result<Value, String> {
        self.attr(name).ok_or_else(|| {
            format!(
                "the {} has no {name} (was it fitted before saving?)",
                self.class.name()
            )
        })
    }

    fn text(&self, name: &str) -> Option<&'h str> {
        self.attr(name).and_then(|v| self.heap.str(v))
    }

    fn array(&self, name: &str) -> Result<&'h NdArray, String> {
        let value = self.get(name)?;
        self.heap
            .array(value)
            .ok_or_else(|| format!("{name} is not an array"))
    }

    /// A numeric array or a plain number (`intercept_ = 0.0` when no intercept is fitted).
    fn numbers(&self, name: &str) -> Result<Vec<f64>, String> {
        match self.get(name)? {
            Value::Float(v) => Ok(vec![v]),
            Value::Int(v) => Ok(vec![v as f64]),
            other => self
                .heap
                .array(other)
                .and_then(NdArray::to_f64)
                .ok_or_else(|| format!("{name} is not numeric")),
        }
    }

    fn classes(&self) -> Result<Classes, String> {
        let array = self.array("classes_")?;
        if array.shape.len() != 1 {
            return Err(format!(
                "classes_ has shape {:?}, expected one dimension",
                array.shape
            ));
        }
        Ok(match &array.elements {
            Elements::Int(v) => Classes::Int(v.clone()),
            Elements::UInt(v) => Classes::Int(v.iter().map(|&x| x as i64).collect()),
            Elements::Float(v) => Classes::Float(v.clone()),
            Elements::Bool(v) => Classes::Bool(v.clone()),
            Elements::Str(v) => Classes::Str(v.clone()),
            Elements::Bytes(v) => Classes::Str(
                v.iter()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .collect(),
            ),
            Elements::Object(values) => self.object_classes(values)?,
        })
    }

    /// `classes_` of dtype object (labels from a pandas column): all strings or all integers.
    fn object_classes(&self, values: &[Value]) -> Result<Classes, String> {
        if let Some(strings) = values
            .iter()
            .map(|v| self.heap.str(*v).map(str::to_owned))
            .collect()
        {
            return Ok(Classes::Str(strings));
        }
        if let Some(ints) = values
            .iter()
            .map(|v| {
                if let Value::Int(i) = v {
                    Some(*i)
                } else {
                    None
                }
            })
            .collect()
        {
            return Ok(Classes::Int(ints));
        }
        Err("classes_ mixes label types or holds objects other than strings and integers".into())
    }

    fn feature_names(&self) -> Result<Option<Vec<String>>, String> {
        let Some(value) = self.attr("feature_names_in_") else {
            return Ok(None);
        };
        let array = self
            .heap
            .array(value)
            .ok_or("feature_names_in_ is not an array")?;
        let names = match &array.elements {
            Elements::Str(v) => v.clone(),
            Elements::Object(values) => values
                .iter()
                .map(|v| self.heap.str(*v).map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or("feature_names_in_ holds something other than strings")?,
            _ => return Err("feature_names_in_ holds something other than strings".into()),
        };
        Ok(Some(names))
    }

    /// Whether the scikit-learn that saved the model is older than `(major, minor)`; files
    /// without a version (before 0.18) count as old.
    fn saved_before(&self, version: (u32, u32)) -> bool {
        let Some(saved) = self.text("_sklearn_version") else {
            return true;
        };
        let mut parts = saved.split('.').map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        });
        let major = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let minor = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        (major, minor) < version
    }

    /// How this estimator, as saved, computes `predict_proba`.
    fn proba_rule(&self, n_classes: usize) -> Result<ProbaRule, String> {
        Ok(match self.class {
            SkClass::LogisticRegression => {
                // newton-cholesky fitted one-vs-rest until scikit-learn 1.6 taught it softmax.
                let ovr_solver = match self.text("solver") {
                    Some("liblinear") => true,
                    Some("newton-cholesky") => self.saved_before((1, 6)),
                    _ => false,
                };
                match self.text("multi_class") {
                    Some("ovr" | "warn") => ProbaRule::OneVsRest,
                    Some("multinomial") => ProbaRule::Multinomial,
                    // "auto" (≤ 1.4), "deprecated" (1.5–1.7) and absent (1.8+): one-vs-rest for
                    // binary models and one-vs-rest solvers, softmax otherwise.
                    _ if n_classes <= 2 || ovr_solver => ProbaRule::OneVsRest,
                    _ => ProbaRule::Multinomial,
                }
            }
            SkClass::SgdClassifier => match self.text("loss") {
                Some("log_loss" | "log") => ProbaRule::OneVsRest,
                Some("modified_huber") => ProbaRule::ModifiedHuber,
                _ => ProbaRule::None,
            },
            _ => ProbaRule::None,
        })
    }
}

/// A short description of a value, for errors about what a file holds instead of an estimator.
fn describe(heap: &Heap, value: Value) -> String {
    match (value, heap.node(value)) {
        (Value::None, _) => "None".into(),
        (Value::Bool(_), _) => "a boolean".into(),
        (Value::Int(_), _) => "an integer".into(),
        (Value::Float(_), _) => "a float".into(),
        (_, Some(Node::Dict(_))) => "a dict".into(),
        (_, Some(Node::List(_))) => "a list".into(),
        (_, Some(Node::Tuple(_))) => "a tuple".into(),
        (_, Some(Node::Array(_))) => "a numpy array".into(),
        (_, Some(Node::Str(_))) => "a string".into(),
        (_, Some(Node::Object(o))) => format!("an instance of {}", o.class),
        _ => "a value".into(),
    }
}
