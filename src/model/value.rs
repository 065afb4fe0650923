//! The values a pickle builds, shared by the VM (`pickle`) that makes them and the readers
//! (`numpy`, `sklearn`) that take them apart: scalars, an arena of nodes that refer to each
//! other by index, and numpy arrays with their dtypes.
//!
//! Nothing here reads bytes or knows an opcode: decoding lives in `pickle` (the stream) and
//! `numpy` (array buffers and dtype strings).

use std::borrow::Cow;

use super::allow::Callable;
use super::budget::{Budget, TooLarge};

/// Nesting depth beyond which a value is refused: real model files nest a handful of levels.
pub const MAX_DEPTH: usize = 128;

/// Index of a node in the [`Heap`].
pub type NodeId = u32;

/// What one node costs in the arena, whatever it holds, with its height while nesting is
/// checked ([`Heap::depth_limited`]).
pub const NODE_BYTES: usize = std::mem::size_of::<Node<'static>>() + std::mem::size_of::<u32>();

/// What one item of a tuple, list or set costs; a dict's pair costs two.
pub const VALUE_BYTES: usize = std::mem::size_of::<Value>();

/// A pickle value: small scalars inline, everything else a reference into the [`Heap`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Ref(NodeId),
}

/// A heap node. Containers hold [`Value`]s, never owned children.
#[derive(Debug)]
pub enum Node<'a> {
    /// Text and bytes borrow from the file where they can: no copy per string.
    Str(Cow<'a, str>),
    Bytes(Cow<'a, [u8]>),
    /// An integer too wide for `i64`, kept as pickle's little-endian two's complement bytes.
    BigInt(Vec<u8>),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Set(Vec<Value>),
    /// A resolved global that has not been called.
    Global(Callable),
    /// An instance made by NEWOBJ or by REDUCE of an allowed class, with its BUILD state.
    Object(Object),
    /// `numpy.core.multiarray._reconstruct(...)` before BUILD gives it its contents.
    PendingArray,
    Array(NdArray),
    Dtype(Dtype),
}

/// An instance of an allowed class, kept as data: its class, its constructor arguments and the
/// state BUILD gave it.
#[derive(Debug)]
pub struct Object {
    pub class: Callable,
    /// The argument tuple (a reference, so no copy is made of it).
    pub args: Value,
    pub state: Option<Value>,
}

/// The arena every value of one load lives in, and the budget the load charges.
#[derive(Debug)]
pub struct Heap<'a> {
    nodes: Vec<Node<'a>>,
    budget: &'a Budget,
}

impl<'a> Heap<'a> {
    /// An empty heap for a stream of `stream_len` bytes, charging `budget`. Room is made for a
    /// node per 8 bytes of stream, as typical files hold, so that the hot loop rarely grows the
    /// arena; never for more nodes than the budget could pay for. Room is not memory: only the
    /// nodes made are resident, and charged.
    pub fn new(stream_len: usize, budget: &'a Budget) -> Self {
        let affordable = usize::try_from(budget.remaining() / NODE_BYTES as u64).unwrap_or(0);
        Self {
            nodes: Vec::with_capacity((stream_len / 8).min(affordable)),
            budget,
        }
    }

    /// The budget of the load these values belong to.
    pub fn budget(&self) -> &'a Budget {
        self.budget
    }

    /// Adds a node, charging its own size; what it owns beyond that (items, decoded
    /// elements, text) is charged by whoever made it, before making it.
    #[inline(always)]
    pub fn push(&mut self, node: Node<'a>) -> Result<Value, TooLarge> {
        let Ok(id) = NodeId::try_from(self.nodes.len()) else {
            return Err(self.too_many());
        };
        self.budget
            .charge(NODE_BYTES, || format!("the pickle's values (node {id})"))?;
        self.nodes.push(node);
        Ok(Value::Ref(id))
    }

    #[cold]
    fn too_many(&self) -> TooLarge {
        let what = "the values the pickle builds".to_owned();
        self.budget.refusal(self.nodes.len(), NODE_BYTES, what)
    }

    pub fn node(&self, value: Value) -> Option<&Node<'a>> {
        match value {
            Value::Ref(id) => self.nodes.get(id as usize),
            _ => None,
        }
    }

    pub(super) fn node_mut(&mut self, id: NodeId) -> &mut Node<'a> {
        &mut self.nodes[id as usize]
    }

    pub fn str(&self, value: Value) -> Option<&str> {
        match self.node(value) {
            Some(Node::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn tuple(&self, value: Value) -> Option<&[Value]> {
        match self.node(value) {
            Some(Node::Tuple(items)) | Some(Node::List(items)) => Some(items),
            _ => None,
        }
    }

    pub fn array(&self, value: Value) -> Option<&NdArray> {
        match self.node(value) {
            Some(Node::Array(a)) => Some(a),
            _ => None,
        }
    }

    /// Items of a dict whose keys are strings (an object's `__dict__`).
    pub fn str_dict(&self, value: Value) -> Option<Vec<(&str, Value)>> {
        match self.node(value) {
            Some(Node::Dict(items)) => Some(
                items
                    .iter()
                    .filter_map(|(k, v)| self.str(*k).map(|k| (k, *v)))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The `index`th value a node refers to, if it has that many.
    fn child(&self, id: NodeId, index: usize) -> Option<Value> {
        match &self.nodes[id as usize] {
            Node::Tuple(items) | Node::List(items) | Node::Set(items) => items.get(index).copied(),
            Node::Dict(items) => items
                .get(index / 2)
                .map(|(k, v)| if index.is_multiple_of(2) { *k } else { *v }),
            // An inert marker's state is never read (Birch's tree of subclusters, whose
            // leaves link to each other both ways): only its arguments are followed.
            Node::Object(o) if matches!(o.class, Callable::Inert(_)) => {
                [o.args].into_iter().nth(index)
            }
            Node::Object(o) => [Some(o.args), o.state].into_iter().flatten().nth(index),
            Node::Array(a) => a.object_values().get(index).copied(),
            _ => None,
        }
    }

    /// Checks that `value` nests no deeper than [`MAX_DEPTH`] and holds no cycle, so that
    /// recursive readers of it cannot overflow the stack. Each node is visited once (shared
    /// nodes included, through their recorded height), so the check is linear in the file.
    pub fn depth_limited(&self, value: Value) -> Result<(), String> {
        const UNSEEN: u32 = 0;
        const ON_PATH: u32 = u32::MAX;
        let too_deep = || format!("nesting depth exceeds {MAX_DEPTH} levels");
        let Value::Ref(root) = value else {
            return Ok(());
        };
        // For finished nodes, the height of their subtree (a leaf is 1).
        let mut height = vec![UNSEEN; self.nodes.len()];
        // The path from the root: each node, the index of its next child, its tallest child.
        let mut path: Vec<(NodeId, usize, u32)> = vec![(root, 0, 0)];
        height[root as usize] = ON_PATH;
        while let Some((id, next, tallest)) = path.last_mut() {
            let (id, index) = (*id, *next);
            *next += 1;
            match self.child(id, index) {
                Some(Value::Ref(child)) => match height.get(child as usize).copied() {
                    None => return Err("dangling reference".into()),
                    Some(ON_PATH) => {
                        // Name the object on the cycle: a Pipeline holding itself, say.
                        let start = path.iter().position(|(id, _, _)| *id == child).unwrap_or(0);
                        let object = path[start..].iter().find_map(|(id, _, _)| {
                            match &self.nodes[*id as usize] {
                                Node::Object(o) => Some(o.class.name()),
                                _ => None,
                            }
                        });
                        return Err(match object {
                            Some(class) => format!(
                                "values refer to themselves in a cycle (an instance of {class} contains itself)"
                            ),
                            None => "values refer to themselves in a cycle".into(),
                        });
                    }
                    Some(UNSEEN) => {
                        if path.len() >= MAX_DEPTH {
                            return Err(too_deep());
                        }
                        height[child as usize] = ON_PATH;
                        path.push((child, 0, 0));
                    }
                    Some(done) => *tallest = (*tallest).max(done),
                },
                Some(_) => {}
                None => {
                    let own = *tallest + 1;
                    path.pop();
                    if path.len() + own as usize > MAX_DEPTH {
                        return Err(too_deep());
                    }
                    height[id as usize] = own;
                    if let Some((_, _, parent_tallest)) = path.last_mut() {
                        *parent_tallest = (*parent_tallest).max(own);
                    }
                }
            }
        }
        Ok(())
    }
}

/// The element kinds skserve reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Float,
    Int,
    UInt,
    Bool,
    /// Fixed-width UCS-4 text, numpy's `<U7`.
    Unicode,
    /// Fixed-width bytes, numpy's `S3`.
    Bytes,
    Object,
    /// A structured record (`V64` with named fields), such as a tree's node.
    Record,
}

/// A numpy dtype: kind, item size in bytes and byte order; a record's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dtype {
    pub kind: Kind,
    pub size: usize,
    pub little_endian: bool,
    /// The fields of a record, in order; empty for every other kind.
    pub fields: Vec<Field>,
}

/// One field of a record dtype: a number of a plain numeric dtype at an offset in the record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub dtype: Dtype,
    pub offset: usize,
}

impl Dtype {
    pub fn is_object(&self) -> bool {
        self.kind == Kind::Object
    }

    pub fn item_size(&self) -> usize {
        self.size
    }

    /// numpy's name for the dtype (`float64`, `<U7`, `object`).
    pub fn name(&self) -> String {
        let order = if self.little_endian { '<' } else { '>' };
        match self.kind {
            Kind::Float => format!("float{}", self.size * 8),
            Kind::Int => format!("int{}", self.size * 8),
            Kind::UInt => format!("uint{}", self.size * 8),
            Kind::Bool => "bool".into(),
            Kind::Unicode => format!("{order}U{}", self.size / 4),
            Kind::Bytes => format!("|S{}", self.size),
            Kind::Object => "object".into(),
            Kind::Record => {
                let fields: Vec<String> = self
                    .fields
                    .iter()
                    .map(|f| format!("{}: {}", f.name, f.dtype.name()))
                    .collect();
                format!("record of {} bytes {{{}}}", self.size, fields.join(", "))
            }
        }
    }

    /// The field named `name` of a record dtype.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// An array's elements in C order.
#[derive(Clone, Debug, PartialEq)]
pub enum Elements {
    Float(Vec<f64>),
    Int(Vec<i64>),
    UInt(Vec<u64>),
    Bool(Vec<bool>),
    Str(Vec<String>),
    Bytes(Vec<Vec<u8>>),
    Object(Vec<Value>),
    /// Records as the file holds them, `len × item size` bytes (`numpy` reads their fields).
    Records(Vec<u8>),
}

/// A numpy array, C order.
#[derive(Clone, Debug, PartialEq)]
pub struct NdArray {
    pub shape: Vec<usize>,
    pub dtype: Dtype,
    pub elements: Elements,
}

impl NdArray {
    pub fn len(&self) -> usize {
        match &self.elements {
            Elements::Float(v) => v.len(),
            Elements::Int(v) => v.len(),
            Elements::UInt(v) => v.len(),
            Elements::Bool(v) => v.len(),
            Elements::Str(v) => v.len(),
            Elements::Bytes(v) => v.len(),
            Elements::Object(v) => v.len(),
            Elements::Records(bytes) => bytes.len().checked_div(self.dtype.size).unwrap_or(0),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements of an object array (what the VM must walk); empty for other kinds.
    pub fn object_values(&self) -> &[Value] {
        match &self.elements {
            Elements::Object(v) => v,
            _ => &[],
        }
    }

    /// The elements as `f64`, for numeric arrays.
    pub fn to_f64(&self) -> Option<Vec<f64>> {
        Some(match &self.elements {
            Elements::Float(v) => v.clone(),
            Elements::Int(v) => v.iter().map(|&x| x as f64).collect(),
            Elements::UInt(v) => v.iter().map(|&x| x as f64).collect(),
            Elements::Bool(v) => v.iter().map(|&x| f64::from(u8::from(x))).collect(),
            _ => return None,
        })
    }

    /// A 0-d array as a pickle value (what `numpy.core.multiarray.scalar` produces).
    pub fn scalar_value(self, heap: &mut Heap) -> Result<Value, TooLarge> {
        Ok(match self.elements {
            Elements::Float(v) => Value::Float(v[0]),
            Elements::Int(v) => Value::Int(v[0]),
            Elements::UInt(v) => i64::try_from(v[0]).map_or(Value::Float(v[0] as f64), Value::Int),
            Elements::Bool(v) => Value::Bool(v[0]),
            Elements::Str(mut v) => heap.push(Node::Str(v.swap_remove(0).into()))?,
            Elements::Bytes(mut v) => heap.push(Node::Bytes(v.swap_remove(0).into()))?,
            Elements::Object(v) => v[0],
            Elements::Records(bytes) => heap.push(Node::Bytes(bytes.into()))?,
        })
    }
}
