//! Reading a fitted object's state (its pickled `__dict__`) attribute by attribute. Every
//! error names where the object sits and the attribute: `step preprocess > cat
//! (OneHotEncoder): categories_[1] holds floats, expected strings like the column's other
//! categories`. The rooms read their classes only through [`State`], so no reader can forget
//! to say where it was.
//!
//! What must not live here: knowledge of any one estimator (that is in the rooms).

use std::fmt;

use super::LoadError;
use super::allow::{Callable, SkClass};
use super::value::{Elements, Heap, NdArray, Node, Value};

/// The least a counted thing (a feature, an output) costs once read: a column's name and
/// place, an output's classes.
const BYTES_PER_COUNTED: usize = 64;

/// Where an object sits in the model: the names of the steps leading to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Path(Vec<String>);

impl Path {
    /// The path of a step named `name` inside this one.
    pub fn join(&self, name: &str) -> Self {
        let mut steps = self.0.clone();
        steps.push(name.to_owned());
        Self(steps)
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The innermost step's name, or `""` at the root.
    pub fn name(&self) -> &str {
        self.0.last().map_or("", String::as_str)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" > "))
    }
}

/// How a step is named in messages: `step num > scaler (StandardScaler)`, or the class alone
/// for the model itself.
pub fn label(class: &str, path: &Path) -> String {
    if path.is_root() {
        class.to_owned()
    } else {
        format!("step {path} ({class})")
    }
}

/// One object's state, with what is needed to say where it is.
pub struct State<'h> {
    pub heap: &'h Heap<'h>,
    /// The object's `__dict__` (a few dozen entries: a scan beats hashing).
    attrs: Vec<(&'h str, Value)>,
    pub class: SkClass,
    pub path: Path,
}

impl<'h> State<'h> {
    /// The state of the object at `value`, which must be an instance of an allowed class.
    pub fn of(heap: &'h Heap<'h>, value: Value, path: &Path) -> Result<Self, LoadError> {
        let where_ = || {
            if path.is_root() {
                "the file".to_owned()
            } else {
                format!("step {path}")
            }
        };
        let Some(Node::Object(object)) = heap.node(value) else {
            return Err(LoadError::Unsupported(format!(
                "{} holds {}, not a scikit-learn estimator",
                where_(),
                describe(heap, value)
            )));
        };
        let class = match &object.class {
            Callable::Class(c) => *c,
            other => {
                return Err(LoadError::Unsupported(format!(
                    "{} holds an instance of {other}, not a scikit-learn estimator",
                    where_()
                )));
            }
        };
        let attrs = object.state.and_then(|s| heap.str_dict(s)).ok_or_else(|| {
            LoadError::Unsupported(format!(
                "{} has no fitted state (was it fitted before saving?)",
                label(class.name(), path)
            ))
        })?;
        Ok(Self {
            heap,
            attrs,
            class,
            path: path.clone(),
        })
    }

    /// How this object is named in messages.
    pub fn label(&self) -> String {
        label(self.class.name(), &self.path)
    }

    /// A malformed attribute: `step cat (OneHotEncoder): drop_idx_ …`.
    pub fn malformed(&self, attr: &str, problem: impl fmt::Display) -> LoadError {
        LoadError::Malformed(format!("{}: {attr} {problem}", self.label()))
    }

    /// A well-formed setting skserve does not serve.
    pub fn unsupported(&self, problem: impl fmt::Display) -> LoadError {
        LoadError::Unsupported(format!("{}: {problem}", self.label()))
    }

    pub fn attr(&self, name: &str) -> Option<Value> {
        self.attrs
            .iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
    }

    pub fn has(&self, name: &str) -> bool {
        self.attr(name).is_some()
    }

    pub fn get(&self, name: &str) -> Result<Value, LoadError> {
        self.attr(name).ok_or_else(|| {
            LoadError::Malformed(format!(
                "{}: has no {name} (was it fitted before saving?)",
                self.label()
            ))
        })
    }

    /// A string attribute, if it is one.
    pub fn text(&self, name: &str) -> Option<&'h str> {
        self.attr(name).and_then(|v| self.heap.str(v))
    }

    /// A string attribute that must be there.
    pub fn text_required(&self, name: &str) -> Result<&'h str, LoadError> {
        let value = self.get(name)?;
        self.heap
            .str(value)
            .ok_or_else(|| self.malformed(name, "is not a string"))
    }

    pub fn bool_or(&self, name: &str, default: bool) -> Result<bool, LoadError> {
        match self.attr(name) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(b),
            Some(Value::Int(i @ (0 | 1))) => Ok(i == 1),
            Some(_) => Err(self.malformed(name, "is not a boolean")),
        }
    }

    /// A number attribute (an int or a float), if there is one.
    pub fn number(&self, name: &str) -> Result<Option<f64>, LoadError> {
        match self.attr(name) {
            None | Some(Value::None) => Ok(None),
            Some(v) => number_of(self.heap, v)
                .map(Some)
                .ok_or_else(|| self.malformed(name, "is not a number")),
        }
    }

    /// A count (`n_features_in_`, `n_outputs_`), if there is one. What a count counts costs
    /// memory once read, so a count the loading budget could not hold is refused before
    /// anything is made of it.
    pub fn count(&self, name: &str) -> Result<Option<usize>, LoadError> {
        match self.attr(name) {
            None | Some(Value::None) => Ok(None),
            Some(Value::Int(n)) if n >= 0 => {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                let budget = self.heap.budget();
                if !budget.admits(n, BYTES_PER_COUNTED) {
                    let what = format!("{}: {name} = {n}", self.label());
                    return Err(budget.refusal(n, BYTES_PER_COUNTED, what).into());
                }
                Ok(Some(n))
            }
            Some(_) => Err(self.malformed(name, "is not a non-negative integer")),
        }
    }

    pub fn array(&self, name: &str) -> Result<&'h NdArray, LoadError> {
        let value = self.get(name)?;
        self.heap
            .array(value)
            .ok_or_else(|| self.malformed(name, "is not an array"))
    }

    /// A numeric array (or a plain number, as `intercept_ = 0.0`), flattened, with its shape
    /// (`[]` for a plain number). The copy is charged to the load.
    pub fn numbers(&self, name: &str) -> Result<(Vec<f64>, Vec<usize>), LoadError> {
        let value = self.get(name)?;
        if let Some(array) = self.heap.array(value) {
            self.charge_copy(name, array)?;
        }
        numbers_of(self.heap, value).ok_or_else(|| self.malformed(name, "is not numeric"))
    }

    /// A 1-D numeric array of `len` finite values.
    pub fn vector(&self, name: &str, len: usize) -> Result<Vec<f64>, LoadError> {
        let (values, shape) = self.numbers(name)?;
        if shape.len() != 1 || values.len() != len {
            return Err(self.malformed(
                name,
                format!("has shape {shape:?}, expected [{len}] (one value per feature)"),
            ));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(self.malformed(
                &format!("{name}[{i}]"),
                format!("is {}, not a finite number", values[i]),
            ));
        }
        Ok(values)
    }

    /// Charges the copy a reader is about to make of `array` (attribute `name`): numbers as
    /// `f64`s, text as `String`s.
    pub fn charge_copy(&self, name: &str, array: &NdArray) -> Result<(), LoadError> {
        let bytes = copy_bytes(self.heap, array);
        Ok(self
            .heap
            .budget()
            .charge(bytes, || format!("{}: a copy of {name}", self.label()))?)
    }

    /// The items of a list or tuple attribute.
    pub fn items(&self, name: &str) -> Result<&'h [Value], LoadError> {
        let value = self.get(name)?;
        self.heap
            .tuple(value)
            .ok_or_else(|| self.malformed(name, "is not a list"))
    }

    /// `feature_names_in_`, when the object was fitted on a DataFrame.
    pub fn feature_names(&self) -> Result<Option<Vec<String>>, LoadError> {
        let Some(value) = self.attr("feature_names_in_") else {
            return Ok(None);
        };
        let array = self
            .heap
            .array(value)
            .ok_or_else(|| self.malformed("feature_names_in_", "is not an array"))?;
        self.charge_copy("feature_names_in_", array)?;
        strings_of(self.heap, array).map(Some).ok_or_else(|| {
            self.malformed("feature_names_in_", "holds something other than strings")
        })
    }

    /// `n_features_in_` checked against what the state itself implies, and the names against
    /// both.
    pub fn check_n_features(&self, n: usize, what: &str) -> Result<Option<Vec<String>>, LoadError> {
        if let Some(stored) = self.count("n_features_in_")?
            && stored != n
        {
            return Err(self.malformed("n_features_in_", format!("is {stored} but {what} has {n}")));
        }
        let names = self.feature_names()?;
        if let Some(names) = &names
            && names.len() != n
        {
            return Err(self.malformed(
                "feature_names_in_",
                format!("has {} names for {n} features", names.len()),
            ));
        }
        Ok(names)
    }

    /// Whether the scikit-learn that saved this object is older than `(major, minor)`; files
    /// without a version (before 0.18) count as old.
    pub fn saved_before(&self, version: (u32, u32)) -> bool {
        self.text("_sklearn_version")
            .is_none_or(|saved| parse_version(saved) < version)
    }

    pub fn sklearn_version(&self) -> Option<&'h str> {
        self.text("_sklearn_version")
    }
}

/// `"1.3.2"` → `(1, 3)`.
pub fn parse_version(text: &str) -> (u32, u32) {
    let mut parts = text.split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
    });
    let major = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor)
}

/// A Python number (int, float, bool or a numpy scalar already decoded) as `f64`.
pub fn number_of(heap: &Heap, value: Value) -> Option<f64> {
    match value {
        Value::Float(v) => Some(v),
        Value::Int(v) => Some(v as f64),
        Value::Bool(b) => Some(f64::from(u8::from(b))),
        other => heap
            .array(other)
            .filter(|a| a.shape.is_empty() || a.len() == 1)
            .and_then(NdArray::to_f64)
            .and_then(|v| v.first().copied()),
    }
}

/// A numeric array or number, flattened, with its shape.
pub fn numbers_of(heap: &Heap, value: Value) -> Option<(Vec<f64>, Vec<usize>)> {
    match value {
        Value::Float(v) => Some((vec![v], vec![])),
        Value::Int(v) => Some((vec![v as f64], vec![])),
        other => {
            let array = heap.array(other)?;
            Some((array.to_f64()?, array.shape.clone()))
        }
    }
}

/// What a reader's copy of `array` takes: a word per number, a `String` (its header, its
/// text and the allocator's word) per text, bytes or object item.
fn copy_bytes(heap: &Heap, array: &NdArray) -> usize {
    const OWNED: usize = std::mem::size_of::<String>() + std::mem::size_of::<usize>();
    let texts = |count: usize, text: usize| count.saturating_mul(OWNED).saturating_add(text);
    match &array.elements {
        Elements::Float(v) => v.len() * 8,
        Elements::Int(v) => v.len() * 8,
        Elements::UInt(v) => v.len() * 8,
        Elements::Bool(v) => v.len() * 8,
        Elements::Records(bytes) => bytes.len(),
        Elements::Str(v) => texts(v.len(), v.iter().map(String::len).sum()),
        Elements::Bytes(v) => texts(v.len(), v.iter().map(Vec::len).sum()),
        Elements::Object(values) => texts(
            values.len(),
            values
                .iter()
                .filter_map(|v| heap.str(*v))
                .map(str::len)
                .sum(),
        ),
    }
}

/// The strings of a text array (`<U7`, bytes, or an object array of `str`).
pub fn strings_of(heap: &Heap, array: &NdArray) -> Option<Vec<String>> {
    match &array.elements {
        Elements::Str(v) => Some(v.clone()),
        Elements::Bytes(v) => Some(
            v.iter()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect(),
        ),
        Elements::Object(values) => values
            .iter()
            .map(|v| heap.str(*v).map(str::to_owned))
            .collect(),
        _ => None,
    }
}

/// A short description of a value, for errors about what a file holds instead of an estimator.
pub fn describe(heap: &Heap, value: Value) -> String {
    match (value, heap.node(value)) {
        (Value::None, _) => "None".into(),
        (Value::Bool(_), _) => "a boolean".into(),
        (Value::Int(_), _) => "an integer".into(),
        (Value::Float(_), _) => "a float".into(),
        (_, Some(Node::Dict(_))) => "a dict".into(),
        (_, Some(Node::List(_))) => "a list".into(),
        (_, Some(Node::Tuple(_))) => "a tuple".into(),
        (_, Some(Node::Array(_))) => "a numpy array".into(),
        (_, Some(Node::Str(s))) => format!("the string {s:?}"),
        (_, Some(Node::Object(o))) => format!("an instance of {}", o.class),
        (_, Some(Node::Global(g))) => format!("the callable {g}"),
        _ => "a value".into(),
    }
}
