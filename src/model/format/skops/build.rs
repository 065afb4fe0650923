//! The states of `schema.json` turned into the arena of values the pickle VM builds
//! ([`Heap`]), so that the catalog reads a skops archive exactly as it reads a pickle: an
//! estimator is an [`Object`] of its allowed class whose state is its `__dict__`, an array
//! is an array, a numpy scalar a plain number, a type an inert global.
//!
//! Each state is built from its own content: `__id__` (skops's memo of shared objects) is not
//! followed, so the schema's tree cannot become a graph with cycles. An array member named by
//! several states is inflated and decoded once. Every name was checked by `names` before the
//! first member is read; each state is checked again as it is built.
//!
//! What must not live here: the checks of names (`names`), the zip bounds (`archive`).

use std::borrow::Cow;
use std::collections::HashMap;

use crate::model::allow::Callable;
use crate::model::budget::TooLarge;
use crate::model::numpy;
use crate::model::value::{Heap, Kind as ElementKind, Node, Object, VALUE_BYTES, Value};

use super::archive::Archive;
use super::json::{self, Json, Scalar};
use super::names::{self, Key, Kind, Refusal};
use super::npy;

/// Builds values out of one archive's states, charging them to the archive's budget.
pub struct Builder<'a, 'z> {
    pub heap: Heap<'a>,
    archive: &'z mut Archive<'a>,
    /// Arrays already decoded, by member name.
    members: HashMap<String, Value>,
    /// The charge that stopped the build, if one did: the load is refused as too large, not
    /// as malformed.
    too_large: Option<TooLarge>,
}

type Built = Result<Value, String>;

impl<'a, 'z> Builder<'a, 'z> {
    pub fn new(archive: &'z mut Archive<'a>) -> Self {
        Self {
            heap: Heap::new(0, archive.budget()),
            archive,
            members: HashMap::new(),
            too_large: None,
        }
    }

    /// The charge past the budget that stopped the build, if that is what stopped it.
    pub fn too_large(&mut self) -> Option<TooLarge> {
        self.too_large.take().or_else(|| self.archive.too_large())
    }

    /// A charge's refusal, kept for [`Self::too_large`] and told as text on the way out.
    fn refuse(&mut self, e: TooLarge) -> String {
        let told = e.to_string();
        self.too_large = Some(e);
        told
    }

    /// Adds `node` to the arena, charging it.
    fn push(&mut self, node: Node<'a>) -> Built {
        match self.heap.push(node) {
            Ok(value) => Ok(value),
            Err(e) => Err(self.refuse(e)),
        }
    }

    /// Owned text as a node, its bytes charged first.
    fn text(&mut self, text: String) -> Built {
        let n = text.len();
        if let Err(e) = self
            .heap
            .budget()
            .charge(n, || format!("a string of {n} bytes"))
        {
            return Err(self.refuse(e));
        }
        self.push(Node::Str(Cow::Owned(text)))
    }

    /// Charges `count` items a container is about to hold.
    fn charge_items(&mut self, count: usize) -> Result<(), String> {
        let charged = self.heap.budget().charge_items(count, VALUE_BYTES, || {
            format!("a container of {count} items")
        });
        charged.map_err(|e| self.refuse(e))
    }

    /// The value `state` describes.
    pub fn value(&mut self, state: &Json) -> Built {
        let kind = match names::kind(state, false) {
            Ok(kind) => kind,
            Err(Refusal::Name(name)) => {
                return Err(format!("it names {name}, which is not allowed"));
            }
            Err(Refusal::Malformed(why)) => return Err(why),
        };
        let (_, module, class) = names::parts(state).map_err(|_| "a state without its names")?;
        let at = || format!("{module}.{class}");
        let content = || {
            state
                .get("content")
                .ok_or_else(|| format!("a {} without its content", at()))
        };
        let node = match kind {
            Kind::Scalar => {
                let text = content()?
                    .str()
                    .ok_or("a JsonNode whose content is not text")?;
                return self.scalar(json::scalar(text)?);
            }
            Kind::Dict => return self.dict(state),
            Kind::List => Node::List(self.items(content()?)?),
            Kind::Tuple => Node::Tuple(self.items(content()?)?),
            Kind::Set => Node::Set(self.items(content()?)?),
            Kind::Bytes => Node::Bytes(Cow::Owned(self.member(state)?)),
            Kind::Slice => {
                // The ends as Python wrote them: integers, None, or column names.
                let content = content()?;
                let mut ends = Vec::with_capacity(3);
                for end in ["start", "stop", "step"] {
                    ends.push(match content.get(end) {
                        Some(Json::Int(v)) => Value::Int(*v),
                        Some(Json::Null) => Value::None,
                        Some(Json::Str(s)) => self.text(s.clone())?,
                        _ => {
                            return Err(format!(
                                "a slice whose {end} is not an integer, a name or None"
                            ));
                        }
                    });
                }
                let args = self.push(Node::Tuple(ends))?;
                return self.object(Callable::Slice, args, None);
            }
            Kind::Global(callable) => Node::Global(callable),
            Kind::Key(_) => return Err(format!("{} as a value, not as a dict's key type", at())),
            Kind::Partial => {
                let content = content()?;
                let mut parts = Vec::with_capacity(4);
                for field in ["func", "args", "kwds", "namespace"] {
                    let part = content
                        .get(field)
                        .ok_or_else(|| format!("a functools.partial without its {field}"))?;
                    parts.push(self.value(part)?);
                }
                let args = self.push(Node::Tuple(vec![parts[0]]))?;
                let state = self.push(Node::Tuple(parts))?;
                return self.object(Callable::Partial, args, Some(state));
            }
            Kind::Object(class) | Kind::Random(class) => {
                let state = match state.get("content") {
                    // A generator's content is a plain object of states.
                    Some(content) if content.get("__loader__").is_none() => {
                        Some(self.fields(content)?)
                    }
                    Some(content) => Some(self.value(content)?),
                    None => None,
                };
                let args = self.push(Node::Tuple(Vec::new()))?;
                return self.object(class, args, state);
            }
            Kind::Constructed(class) => {
                let args = self.value(content()?)?;
                if self.heap.tuple(args).is_none() {
                    return Err(format!("the arguments of a {} are not a tuple", at()));
                }
                return self.object(class, args, None);
            }
            Kind::Reduced(class) => {
                let args = state
                    .get("__reduce__")
                    .and_then(|r| r.get("args"))
                    .ok_or_else(|| format!("a {} without its constructor arguments", at()))?;
                let args = self.value(args)?;
                if self.heap.tuple(args).is_none() {
                    return Err(format!("the arguments of a {} are not a tuple", at()));
                }
                let attrs = self.value(content()?)?;
                return self.object(class, args, Some(attrs));
            }
            Kind::Array { scalar } => return self.array(state, scalar, &at()),
            Kind::Masked(class) => {
                let content = content()?;
                let mut parts = Vec::with_capacity(2);
                for field in ["data", "mask"] {
                    let part = content
                        .get(field)
                        .ok_or_else(|| format!("a masked array without its {field}"))?;
                    parts.push(self.value(part)?);
                }
                let args = self.push(Node::Tuple(parts))?;
                return self.object(class, args, None);
            }
            Kind::Dtype => {
                let array = self.value(content()?)?;
                let dtype = self
                    .heap
                    .array(array)
                    .map(|a| a.dtype.clone())
                    .ok_or("a numpy.dtype whose content is not an array")?;
                Node::Dtype(dtype)
            }
        };
        self.push(node)
    }

    fn object(&mut self, class: Callable, args: Value, state: Option<Value>) -> Built {
        self.push(Node::Object(Object { class, args, state }))
    }

    /// A plain JSON object of states, as a dict of their names.
    fn fields(&mut self, content: &Json) -> Built {
        let fields = content
            .object()
            .ok_or("a content that is neither a state nor an object")?;
        self.charge_items(fields.len().saturating_mul(2))?;
        let mut pairs = Vec::with_capacity(fields.len());
        for (name, state) in fields {
            let key = self.text(name.clone())?;
            pairs.push((key, self.value(state)?));
        }
        self.push(Node::Dict(pairs))
    }

    fn items(&mut self, content: &Json) -> Result<Vec<Value>, String> {
        let items = content
            .array()
            .ok_or("a container whose content is not a list")?;
        self.charge_items(items.len())?;
        items.iter().map(|item| self.value(item)).collect()
    }

    fn scalar(&mut self, scalar: Scalar) -> Built {
        Ok(match scalar {
            Scalar::None => Value::None,
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::Int(v) => Value::Int(v),
            Scalar::Float(v) => Value::Float(v),
            Scalar::Str(s) => self.text(s)?,
            Scalar::BigInt(bytes) => self.push(Node::BigInt(bytes))?,
        })
    }

    /// A dict: its keys are JSON text, each read by the type at its position in `key_types`.
    fn dict(&mut self, state: &Json) -> Built {
        let content = state
            .get("content")
            .and_then(Json::object)
            .ok_or("a dict whose content is not an object")?;
        let key_types = state
            .get("key_types")
            .ok_or("a dict without its key_types")?;
        let list = key_types
            .get("content")
            .and_then(Json::array)
            .filter(|_| matches!(names::kind(key_types, false), Ok(Kind::List)))
            .ok_or("a dict whose key_types are not a list")?;
        if list.len() != content.len() {
            return Err(format!(
                "a dict of {} keys with {} key types",
                content.len(),
                list.len()
            ));
        }
        self.charge_items(content.len().saturating_mul(2))?;
        let mut pairs = Vec::with_capacity(content.len());
        for ((text, value), key_type) in content.iter().zip(list) {
            let key = match names::kind(key_type, true) {
                Ok(Kind::Key(key)) => self.key(text, key)?,
                Err(Refusal::Name(name)) => {
                    return Err(format!("it names {name}, which is not allowed"));
                }
                _ => {
                    return Err(format!(
                        "the key {text:?} has a key type that is not a type"
                    ));
                }
            };
            pairs.push((key, self.value(value)?));
        }
        self.push(Node::Dict(pairs))
    }

    /// A key as skops rebuilds it, calling its type on the text (so `bool` of any non-empty
    /// text is true, as in Python).
    fn key(&mut self, text: &str, key: Key) -> Built {
        let bad = || format!("the key {text:?} is not a {key:?}");
        Ok(match key {
            Key::Str => self.text(text.to_owned())?,
            Key::Bool => Value::Bool(!text.is_empty()),
            Key::Int => match json::scalar(text.trim()).map_err(|_| bad())? {
                scalar @ (Scalar::Int(_) | Scalar::BigInt(_)) => self.scalar(scalar)?,
                _ => return Err(bad()),
            },
            Key::Float => Value::Float(text.trim().parse().map_err(|_| bad())?),
        })
    }

    /// The bytes of the member a state's `file` names.
    fn member(&mut self, state: &Json) -> Result<Vec<u8>, String> {
        let name = state
            .get("file")
            .and_then(Json::str)
            .ok_or("a state without the name of its member")?;
        if !self.archive.contains(name) {
            return Err(format!(
                "it refers to the member {name:?}, which the archive does not hold"
            ));
        }
        self.archive.read(name, u64::MAX)
    }

    /// An array (or a numpy scalar, from a 0-d one): from a `.npy` member, or an object
    /// array from the states of its items.
    fn array(&mut self, state: &Json, scalar: bool, at: &str) -> Built {
        let array = match state.get("type").and_then(Json::str) {
            Some("numpy") => self.npy_member(state)?,
            Some("json") if !scalar => return self.object_array(state),
            _ => {
                return Err(format!(
                    "a {at} that is neither a .npy member nor a list of items"
                ));
            }
        };
        if !scalar {
            return Ok(array);
        }
        let array = self
            .heap
            .array(array)
            .cloned()
            .ok_or("an array member that is no array")?;
        let class = at.rsplit('.').next().unwrap_or_default();
        let fits = match array.dtype.kind {
            ElementKind::Float => class.starts_with("float") || class == "longdouble",
            ElementKind::Int => class.starts_with("int") || class == "longlong" || class == "intc",
            ElementKind::UInt => class.starts_with("uint"),
            ElementKind::Bool => class == "bool_" || class == "bool",
            ElementKind::Unicode => class == "str_",
            _ => false,
        };
        if !array.shape.is_empty() || !fits {
            return Err(format!(
                "a {at} held as an array of shape {:?} and dtype {}",
                array.shape,
                array.dtype.name()
            ));
        }
        match array.scalar_value(&mut self.heap) {
            Ok(value) => Ok(value),
            Err(e) => Err(self.refuse(e)),
        }
    }

    fn npy_member(&mut self, state: &Json) -> Built {
        let name = state.get("file").and_then(Json::str).unwrap_or_default();
        if let Some(value) = self.members.get(name) {
            return Ok(*value);
        }
        let bytes = self.member(state)?;
        let budget = self.heap.budget();
        let mut too_large = None;
        let decoded = npy::read(&bytes, |count, dtype| {
            let each = numpy::decoded_item_bytes(dtype);
            budget
                .charge_items(count, each, || format!("the array {name:?} decoded"))
                .map_err(|e| {
                    let told = e.to_string();
                    too_large = Some(e);
                    told
                })
        });
        if let Some(e) = too_large {
            return Err(self.refuse(e));
        }
        let array = decoded.map_err(|e| format!("the array {name:?}: {e}"))?;
        let value = self.push(Node::Array(array))?;
        self.members.insert(name.to_owned(), value);
        Ok(value)
    }

    /// An object array: its items' states (nested lists, one level per dimension past the
    /// first) and its shape.
    fn object_array(&mut self, state: &Json) -> Built {
        let shape = self.value(
            state
                .get("shape")
                .ok_or("an object array without its shape")?,
        )?;
        let shape: Vec<usize> = self
            .heap
            .tuple(shape)
            .ok_or("an object array whose shape is not a tuple")?
            .iter()
            .map(|v| match v {
                Value::Int(n) => {
                    usize::try_from(*n).map_err(|_| format!("an object array of size {n}"))
                }
                _ => Err("an object array whose shape holds something other than sizes".into()),
            })
            .collect::<Result<_, String>>()?;
        if shape.is_empty() {
            return Err("a 0-d object array, which skops cannot write".into());
        }
        let mut items = self.items(
            state
                .get("content")
                .ok_or("an object array without items")?,
        )?;
        for (axis, &size) in shape.iter().enumerate().skip(1) {
            let mut flat = Vec::with_capacity(items.len().saturating_mul(size));
            for row in &items {
                let row = self
                    .heap
                    .tuple(*row)
                    .filter(|r| r.len() == size)
                    .ok_or_else(|| {
                        format!("an object array whose axis {axis} is not of size {size}")
                    })?;
                flat.extend_from_slice(row);
            }
            items = flat;
        }
        let array = numpy::from_objects(shape, items, false)?;
        self.push(Node::Array(array))
    }
}
