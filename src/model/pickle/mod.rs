//! The restricted pickle VM: turns pickle bytes (protocols 2 to 5) into an arena of plain values
//! without ever calling anything named by the file.
//!
//! Every `GLOBAL`/`STACK_GLOBAL` is resolved against [`allow::resolve`]; a name that is not on
//! the allow-list stops the load with [`PickleError::Refused`]. The callables that are allowed
//! (numpy's array constructors, `_codecs.encode`, estimator classes) are interpreted here as data
//! constructors; estimator instances stay inert [`Object`]s that the rooms read later, through
//! `state` and `catalog`.
//! Opcodes go by their names (`opcodes`).
//!
//! Values live in an arena ([`Heap`]) and refer to each other by index, so a hostile file cannot
//! build reference cycles that leak or nesting that overflows the stack when dropped; anything
//! that walks values (see `Heap::depth_limited`) carries a depth limit.
//!
//! Everything the VM makes is charged to the load's [`Budget`] before it is made: nodes,
//! container items, decoded arrays (at their decoded size: a `<U1` element is a `String`),
//! copies, and every [`FOOTPRINT_CHECK_BYTES`] of input the stack, marks and memo as they grew.
//! A file cannot make the VM hold more than the budget, whatever its sizes claim.
//!
//! What must not live here: knowledge of scikit-learn estimators (the rooms, through `catalog`)
//! or of compression (`joblib.rs`).

use std::borrow::Cow;
use std::collections::HashMap;

pub mod opcodes;

use super::allow::{self, Callable};
use super::budget::{Budget, TooLarge};
use super::numpy;
use super::value::{Dtype, Heap, Kind, NdArray, Node, Object, VALUE_BYTES, Value};
use opcodes::*;

/// Why a pickle was not loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PickleError {
    #[error("it references {0}, which is not an allowed class")]
    Refused(String),
    #[error(
        "it uses the pickle opcode {name} (byte {offset}), which can run code and is not allowed"
    )]
    RefusedOpcode { name: &'static str, offset: usize },
    #[error("malformed pickle at byte {offset}: {reason}")]
    Malformed { offset: usize, reason: String },
    /// The file asks for more memory than the load's budget allows.
    #[error(transparent)]
    TooLarge(#[from] TooLarge),
}

impl PickleError {
    pub fn malformed(offset: usize, reason: impl Into<String>) -> Self {
        Self::Malformed {
            offset,
            reason: reason.into(),
        }
    }
}

/// Whether a refused global stops the load (serving) or is only recorded (auditing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Load,
    Audit,
}

/// One global a file references, as the audit reports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct GlobalRef {
    pub name: String,
    pub allowed: bool,
}

/// The outcome of running the VM.
#[derive(Debug)]
pub struct Unpickled<'a> {
    pub heap: Heap<'a>,
    pub root: Value,
    pub protocol: u8,
}

/// Runs the VM on `bytes` in `mode`, recording every global into `audit` as it is met, and
/// charging what it builds to `budget`.
pub fn unpickle<'a>(
    bytes: &'a [u8],
    mode: Mode,
    audit: &mut Vec<GlobalRef>,
    budget: &'a Budget,
) -> Result<Unpickled<'a>, PickleError> {
    let mut vm = Vm {
        input: bytes,
        pos: 0,
        heap: Heap::new(bytes.len(), budget),
        mode,
        audit,
        protocol: 0,
    };
    let root = vm.run_stream(0)?;
    let heap = vm.heap;
    heap.depth_limited(root)
        .map_err(|reason| PickleError::malformed(0, reason))?;
    Ok(Unpickled {
        heap,
        root,
        protocol: vm.protocol,
    })
}

struct Vm<'a, 'b> {
    input: &'a [u8],
    pos: usize,
    heap: Heap<'a>,
    mode: Mode,
    audit: &'b mut Vec<GlobalRef>,
    protocol: u8,
}

/// The per-stream machine state: joblib embeds whole pickle streams (object arrays) inside its
/// stream, each with its own stack and memo.
#[derive(Default)]
struct Frame {
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: Memo,
    /// The bytes of stack, marks and memo charged so far (their largest size).
    charged: usize,
}

impl Frame {
    /// What the stack, marks and memo take now: the room they took, but for the memo's dense
    /// part, which is made room for up front and takes memory only as keys are stored.
    fn footprint(&self) -> usize {
        self.stack.capacity() * VALUE_BYTES
            + self.marks.capacity() * std::mem::size_of::<usize>()
            + self.memo.dense.len() * std::mem::size_of::<Option<Value>>()
            + self.memo.sparse.capacity() * SPARSE_MEMO_ENTRY_BYTES
    }

    /// Charges what the stack, marks and memo grew by since the last charge.
    fn charge_growth(&mut self, budget: &Budget) -> Result<(), TooLarge> {
        let now = self.footprint();
        if now > self.charged {
            budget.charge(now - self.charged, || {
                "the pickle's stack and memo".to_owned()
            })?;
            self.charged = now;
        }
        Ok(())
    }
}

/// Input bytes between two charges of the stack's and memo's growth. Between two, each opcode
/// adds at most one entry to each, so what goes uncharged is bounded by a few times this.
const FOOTPRINT_CHECK_BYTES: usize = 4096;

/// A sparse memo entry (key, value and the map's control byte and spare room).
const SPARSE_MEMO_ENTRY_BYTES: usize = 2 * (std::mem::size_of::<(u32, Value)>() + 1);

/// What the allocator adds to a piece of owned text beyond its bytes.
const OWNED_TEXT_BYTES: usize = 16;

/// The memo: dense for the sequential keys every pickler writes, a map for anything else, so
/// a hostile key like 2³²−1 costs one entry, not four billion.
#[derive(Default)]
struct Memo {
    dense: Vec<Option<Value>>,
    sparse: HashMap<u32, Value>,
    /// Keys stored: what MEMOIZE uses as its next key, like `len(memo)` in Python.
    count: u32,
}

impl Memo {
    fn put(&mut self, key: u32, value: Value) {
        let index = key as usize;
        let fresh = if index < self.dense.len() {
            self.dense[index].replace(value).is_none()
        } else if index == self.dense.len() {
            self.dense.push(Some(value));
            true
        } else {
            self.sparse.insert(key, value).is_none()
        };
        self.count += u32::from(fresh);
    }

    fn get(&self, key: u32) -> Option<Value> {
        match self.dense.get(key as usize) {
            Some(slot) => *slot,
            None => self.sparse.get(&key).copied(),
        }
    }
}

/// The one callable `functools.partial` may wrap (see `allow::Callable::Partial`).
pub const PARTIAL_MAY_WRAP: &str = "sklearn.utils.validation.check_array";

/// How deep joblib-style nested streams may go (real files: one level).
const MAX_NESTED_STREAMS: usize = 2;

impl<'a> Vm<'a, '_> {
    fn err(&self, reason: impl Into<String>) -> PickleError {
        PickleError::malformed(self.pos, reason)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PickleError> {
        if n > self.input.len() - self.pos {
            return Err(self.err(format!(
                "needs {n} bytes but only {} remain (truncated file?)",
                self.input.len() - self.pos
            )));
        }
        let out = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, PickleError> {
        Ok(self.take(1)?[0])
    }

    fn le<const N: usize>(&mut self) -> Result<[u8; N], PickleError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn len_u32(&mut self) -> Result<usize, PickleError> {
        Ok(u32::from_le_bytes(self.le()?) as usize)
    }

    fn len_u64(&mut self) -> Result<usize, PickleError> {
        let n = u64::from_le_bytes(self.le()?);
        usize::try_from(n).map_err(|_| self.err("length field too large"))
    }

    /// Pushes `node` onto the heap (charging it) and its reference onto the stack.
    #[inline(always)]
    fn push(&mut self, f: &mut Frame, node: Node<'a>) -> Result<(), PickleError> {
        let value = self.heap.push(node)?;
        f.stack.push(value);
        Ok(())
    }

    /// Charges `count` values a container is about to hold.
    fn charge_items(&self, count: usize, offset: usize) -> Result<(), PickleError> {
        self.heap
            .budget()
            .charge_items(count, VALUE_BYTES, || {
                format!("a container of {count} items (byte {offset})")
            })
            .map_err(PickleError::from)
    }

    fn text(&mut self, n: usize) -> Result<Node<'a>, PickleError> {
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes)
            .map(|s| Node::Str(Cow::Borrowed(s)))
            .map_err(|_| PickleError::malformed(self.pos, "invalid UTF-8 in string"))
    }

    fn line(&mut self) -> Result<String, PickleError> {
        let rest = &self.input[self.pos..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| self.err("unterminated text line"))?;
        let text = String::from_utf8_lossy(&rest[..end]).into_owned();
        self.pos += end + 1;
        Ok(text)
    }

    /// Runs one pickle stream from the current position to its STOP and returns its value.
    fn run_stream(&mut self, nesting: usize) -> Result<Value, PickleError> {
        // Sized for a typical model file, so the hot loop rarely reallocates; the memo's room
        // (not memory until used) never more than the budget could pay for.
        let affordable = usize::try_from(self.heap.budget().remaining() / 16).unwrap_or(0);
        let mut f = Frame {
            stack: Vec::with_capacity(64),
            marks: Vec::with_capacity(16),
            memo: Memo {
                dense: Vec::with_capacity(((self.input.len() - self.pos) / 16).min(affordable)),
                ..Memo::default()
            },
            charged: 0,
        };
        f.charge_growth(self.heap.budget())?;
        let mut next_check = self.pos + FOOTPRINT_CHECK_BYTES;
        loop {
            let offset = self.pos;
            if offset >= next_check {
                f.charge_growth(self.heap.budget())?;
                next_check = offset + FOOTPRINT_CHECK_BYTES;
            }
            let op = self.u8()?;
            match op {
                PROTO => {
                    let proto = self.u8()?;
                    if proto > 5 {
                        return Err(self.err(format!("unsupported pickle protocol {proto}")));
                    }
                    if nesting == 0 {
                        self.protocol = proto;
                    }
                }
                // FRAME only announces how many bytes follow; the VM reads them sequentially.
                FRAME => {
                    self.len_u64()?;
                }
                STOP => {
                    return pop(&mut f, offset);
                }
                MARK => f.marks.push(f.stack.len()),
                NONE => f.stack.push(Value::None),
                NEWTRUE => f.stack.push(Value::Bool(true)),
                NEWFALSE => f.stack.push(Value::Bool(false)),
                BININT => f
                    .stack
                    .push(Value::Int(i32::from_le_bytes(self.le()?) as i64)),
                BININT1 => f.stack.push(Value::Int(self.u8()? as i64)),
                BININT2 => f
                    .stack
                    .push(Value::Int(u16::from_le_bytes(self.le()?) as i64)),
                LONG1 => {
                    let n = self.u8()? as usize;
                    let v = self.long(n)?;
                    f.stack.push(v);
                }
                LONG4 => {
                    let n = i32::from_le_bytes(self.le()?);
                    let n = usize::try_from(n).map_err(|_| self.err("negative LONG4 length"))?;
                    let v = self.long(n)?;
                    f.stack.push(v);
                }
                BINFLOAT => f.stack.push(Value::Float(f64::from_be_bytes(self.le()?))),
                SHORT_BINUNICODE => {
                    let n = self.u8()? as usize;
                    let s = self.text(n)?;
                    self.push(&mut f, s)?;
                }
                BINUNICODE => {
                    let n = self.len_u32()?;
                    let s = self.text(n)?;
                    self.push(&mut f, s)?;
                }
                BINUNICODE8 => {
                    let n = self.len_u64()?;
                    let s = self.text(n)?;
                    self.push(&mut f, s)?;
                }
                // Python 2 `str`: only ever text in model files; read as Latin-1 like `encoding='latin1'`.
                SHORT_BINSTRING | BINSTRING => {
                    let n = if op == SHORT_BINSTRING {
                        self.u8()? as usize
                    } else {
                        self.len_u32()?
                    };
                    let latin1 = self.take(n)?;
                    // Each byte above 127 becomes two bytes of UTF-8.
                    self.heap
                        .budget()
                        .charge_items(n, 2, || format!("a string of {n} bytes (byte {offset})"))?;
                    let s = latin1.iter().map(|&b| b as char).collect();
                    self.push(&mut f, Node::Str(s))?;
                }
                SHORT_BINBYTES | BINBYTES | BINBYTES8 | BYTEARRAY8 => {
                    let n = match op {
                        SHORT_BINBYTES => self.u8()? as usize,
                        BINBYTES => self.len_u32()?,
                        _ => self.len_u64()?,
                    };
                    let bytes = self.take(n)?;
                    self.push(&mut f, Node::Bytes(Cow::Borrowed(bytes)))?;
                }
                EMPTY_TUPLE => self.push(&mut f, Node::Tuple(Vec::new()))?,
                TUPLE => {
                    self.charge_items(marked(&f, offset)?, offset)?;
                    let items = pop_mark(&mut f, offset)?;
                    self.push(&mut f, Node::Tuple(items))?;
                }
                TUPLE1 | TUPLE2 | TUPLE3 => {
                    let n = usize::from(op - TUPLE1) + 1;
                    if f.stack.len() < n + fence(&f) {
                        return Err(PickleError::malformed(offset, "stack underflow"));
                    }
                    self.charge_items(n, offset)?;
                    let items = f.stack.split_off(f.stack.len() - n);
                    self.push(&mut f, Node::Tuple(items))?;
                }
                EMPTY_DICT => self.push(&mut f, Node::Dict(Vec::new()))?,
                DICT => {
                    self.charge_items(marked(&f, offset)?, offset)?;
                    let mark = f.marks.pop().expect("marked() found a mark");
                    let pairs = pairs(f.stack.drain(mark..), offset)?;
                    self.push(&mut f, Node::Dict(pairs))?;
                }
                SETITEM | APPEND => {
                    let n = if op == SETITEM { 2 } else { 1 };
                    if f.stack.len() < n + 1 + fence(&f) {
                        return Err(PickleError::malformed(offset, "stack underflow"));
                    }
                    let at = f.stack.len() - n;
                    let target = f.stack[at - 1];
                    self.add(target, op, f.stack.drain(at..), offset)?;
                }
                SETITEMS | APPENDS | ADDITEMS => {
                    marked(&f, offset)?;
                    let mark = f.marks.pop().expect("marked() found a mark");
                    // The container is the value just below the mark.
                    if mark <= fence(&f) {
                        return Err(PickleError::malformed(offset, "stack underflow"));
                    }
                    let target = f.stack[mark - 1];
                    self.add(target, op, f.stack.drain(mark..), offset)?;
                }
                EMPTY_LIST => self.push(&mut f, Node::List(Vec::new()))?,
                LIST => {
                    self.charge_items(marked(&f, offset)?, offset)?;
                    let items = pop_mark(&mut f, offset)?;
                    self.push(&mut f, Node::List(items))?;
                }
                EMPTY_SET => self.push(&mut f, Node::Set(Vec::new()))?,
                FROZENSET => {
                    self.charge_items(marked(&f, offset)?, offset)?;
                    let items = pop_mark(&mut f, offset)?;
                    self.push(&mut f, Node::Set(items))?;
                }
                POP => {
                    pop(&mut f, offset)?;
                }
                POP_MARK => {
                    pop_mark(&mut f, offset)?;
                }
                DUP => {
                    let v = top(&f, offset)?;
                    f.stack.push(v);
                }
                MEMOIZE => {
                    let v = top(&f, offset)?;
                    let index = f.memo.count;
                    f.memo.put(index, v);
                }
                BINPUT => {
                    let index = self.u8()? as u32;
                    f.memo.put(index, top(&f, offset)?);
                }
                LONG_BINPUT => {
                    let index = u32::from_le_bytes(self.le()?);
                    f.memo.put(index, top(&f, offset)?);
                }
                BINGET | LONG_BINGET => {
                    let index = if op == BINGET {
                        self.u8()? as u32
                    } else {
                        u32::from_le_bytes(self.le()?)
                    };
                    let v = f.memo.get(index).ok_or_else(|| {
                        PickleError::malformed(offset, format!("memo key {index} was never stored"))
                    })?;
                    f.stack.push(v);
                }
                GLOBAL => {
                    let module = self.line()?;
                    let name = self.line()?;
                    let g = self.global(&module, &name)?;
                    f.stack.push(g);
                }
                STACK_GLOBAL => {
                    let name = pop(&mut f, offset)?;
                    let module = pop(&mut f, offset)?;
                    let (Some(module), Some(name)) = (self.heap.str(module), self.heap.str(name))
                    else {
                        return Err(PickleError::malformed(
                            offset,
                            "STACK_GLOBAL needs two strings",
                        ));
                    };
                    let (module, name) = (module.to_owned(), name.to_owned());
                    let g = self.global(&module, &name)?;
                    f.stack.push(g);
                }
                REDUCE => {
                    let args = pop(&mut f, offset)?;
                    let callable = pop(&mut f, offset)?;
                    let v = self.call(callable, args, offset)?;
                    f.stack.push(v);
                }
                NEWOBJ => {
                    let args = pop(&mut f, offset)?;
                    let class = pop(&mut f, offset)?;
                    let v = self.new_object(class, args, offset)?;
                    f.stack.push(v);
                }
                BUILD => {
                    let state = pop(&mut f, offset)?;
                    let target = top(&f, offset)?;
                    self.build(target, state, offset, nesting)?;
                }
                INST | OBJ | NEWOBJ_EX | EXT1 | EXT2 | EXT4 | PERSID | BINPERSID => {
                    self.refused_opcode(&mut f, op, offset)?;
                }
                NEXT_BUFFER | READONLY_BUFFER => {
                    return Err(PickleError::malformed(
                        offset,
                        "out-of-band buffers (pickle protocol 5 buffer_callback) are not supported",
                    ));
                }
                other => {
                    return Err(PickleError::malformed(
                        offset,
                        format!("unsupported pickle opcode 0x{other:02x}"),
                    ));
                }
            }
        }
    }

    /// LONG1/LONG4: little-endian two's complement of `n` bytes.
    fn long(&mut self, n: usize) -> Result<Value, PickleError> {
        let bytes = self.take(n)?;
        if n <= 8 {
            let mut buf = if bytes.last().is_some_and(|b| b & 0x80 != 0) {
                [0xffu8; 8]
            } else {
                [0u8; 8]
            };
            buf[..n].copy_from_slice(bytes);
            return Ok(Value::Int(i64::from_le_bytes(buf)));
        }
        self.heap
            .budget()
            .charge(n, || format!("an integer of {n} bytes"))?;
        Ok(self.heap.push(Node::BigInt(bytes.to_vec()))?)
    }

    /// APPEND(S), SETITEM(S) and ADDITEMS (`op`): moves `items` off the stack into the
    /// container at `target`, which must be of the kind the opcode adds to.
    fn add(
        &mut self,
        target: Value,
        op: u8,
        mut items: std::vec::Drain<'_, Value>,
        offset: usize,
    ) -> Result<(), PickleError> {
        self.charge_items(items.len(), offset)?;
        let node = match target {
            Value::Ref(id) => Some(self.heap.node_mut(id)),
            _ => None,
        };
        match (node, op) {
            (Some(Node::List(list)), APPEND | APPENDS) => list.extend(items),
            (Some(Node::Set(set)), ADDITEMS) => set.extend(items),
            (Some(Node::Dict(dict)), SETITEM | SETITEMS) => {
                if !items.len().is_multiple_of(2) {
                    return Err(PickleError::malformed(
                        offset,
                        "odd number of items for a dict",
                    ));
                }
                dict.reserve(items.len() / 2);
                while let (Some(key), Some(value)) = (items.next(), items.next()) {
                    dict.push((key, value));
                }
            }
            (_, APPEND | APPENDS) => {
                return Err(PickleError::malformed(offset, "APPEND(S) on a non-list"));
            }
            (_, ADDITEMS) => return Err(PickleError::malformed(offset, "ADDITEMS on a non-set")),
            _ => return Err(PickleError::malformed(offset, "SETITEM(S) on a non-dict")),
        }
        Ok(())
    }

    fn global(&mut self, module: &str, name: &str) -> Result<Value, PickleError> {
        let resolved = allow::resolve(module, name);
        if self.mode == Mode::Audit {
            self.record(format!("{module}.{name}"), resolved.is_some())?;
        }
        // A marker or (while auditing) a refused name keeps its name in its node.
        if matches!(resolved, None | Some(Callable::Inert(_))) {
            self.heap
                .budget()
                .charge(module.len() + name.len() + OWNED_TEXT_BYTES, || {
                    format!("the name {module}.{name}")
                })?;
        }
        match (resolved, self.mode) {
            (Some(callable), _) => Ok(self.heap.push(Node::Global(callable))?),
            (None, Mode::Load) => Err(PickleError::Refused(format!("{module}.{name}"))),
            (None, Mode::Audit) => Ok(self
                .heap
                .push(Node::Global(Callable::Refused(format!("{module}.{name}"))))?),
        }
    }

    /// Records a global (or a code-running opcode) in the audit, charging its entry.
    fn record(&mut self, name: String, allowed: bool) -> Result<(), PickleError> {
        self.heap.budget().charge(
            std::mem::size_of::<GlobalRef>() + name.len() + OWNED_TEXT_BYTES,
            || "the audit's list of globals".to_owned(),
        )?;
        self.audit.push(GlobalRef { name, allowed });
        Ok(())
    }

    /// In audit mode a code-running opcode is recorded and stepped over; in load mode it stops.
    fn refused_opcode(&mut self, f: &mut Frame, op: u8, offset: usize) -> Result<(), PickleError> {
        let name = opcodes::refused_name(op).unwrap_or("an unknown opcode");
        if self.mode == Mode::Load {
            return Err(PickleError::RefusedOpcode { name, offset });
        }
        let label = match op {
            INST => {
                let module = self.line()?;
                let class = self.line()?;
                pop_mark(f, offset)?;
                format!("{module}.{class}")
            }
            OBJ => {
                pop_mark(f, offset)?;
                "OBJ".to_owned()
            }
            NEWOBJ_EX => {
                pop(f, offset)?;
                pop(f, offset)?;
                pop(f, offset)?;
                "NEWOBJ_EX".to_owned()
            }
            EXT1 => format!("extension code {}", self.u8()?),
            EXT2 => format!("extension code {}", u16::from_le_bytes(self.le()?)),
            EXT4 => format!("extension code {}", i32::from_le_bytes(self.le()?)),
            PERSID => format!("persistent id {}", self.line()?),
            _ => {
                pop(f, offset)?;
                "persistent id".to_owned()
            }
        };
        self.record(format!("{label} (opcode {name})"), false)?;
        self.heap
            .budget()
            .charge(label.len() + OWNED_TEXT_BYTES, || {
                format!("the label {label}")
            })?;
        let placeholder = self.heap.push(Node::Global(Callable::Refused(label)))?;
        f.stack.push(placeholder);
        Ok(())
    }

    fn callable(&self, value: Value, offset: usize) -> Result<Callable, PickleError> {
        match self.heap.node(value) {
            Some(Node::Global(c)) => Ok(c.clone()),
            _ => Err(PickleError::malformed(
                offset,
                "REDUCE/NEWOBJ of something that is not a class",
            )),
        }
    }

    fn call(&mut self, callable: Value, args: Value, offset: usize) -> Result<Value, PickleError> {
        let callable = self.callable(callable, offset)?;
        let tuple = self
            .heap
            .tuple(args)
            .ok_or_else(|| PickleError::malformed(offset, "REDUCE arguments are not a tuple"))?;
        // The allowed callables take at most five arguments: read them without a copy of the
        // tuple; a longer tuple matches none of their patterns.
        let mut buffer = [Value::None; 5];
        let argv: &[Value] = if tuple.len() <= buffer.len() {
            buffer[..tuple.len()].copy_from_slice(tuple);
            &buffer[..tuple.len()]
        } else {
            &[]
        };
        let node = match &callable {
            Callable::NumpyReconstruct => {
                let subtype = argv.first().and_then(|v| match self.heap.node(*v) {
                    Some(Node::Global(c)) => Some(c.clone()),
                    _ => None,
                });
                if subtype != Some(Callable::NumpyNdarray) {
                    return Err(PickleError::malformed(
                        offset,
                        "_reconstruct may only build a numpy.ndarray",
                    ));
                }
                Node::PendingArray
            }
            Callable::NumpyDtype => {
                let descr = argv
                    .first()
                    .and_then(|v| self.heap.str(*v))
                    .ok_or_else(|| {
                        PickleError::malformed(offset, "numpy.dtype needs a type string")
                    })?;
                Node::Dtype(Dtype::parse(descr).map_err(|e| PickleError::malformed(offset, e))?)
            }
            Callable::NumpyFrombuffer => {
                // numpy 2.3 on adds `axis_order` for arrays neither C nor Fortran ordered.
                let (buffer, dtype, shape, order, axis_order) = match argv[..] {
                    [b, d, s, o] => (b, d, s, o, Value::None),
                    [b, d, s, o, a] => (b, d, s, o, a),
                    _ => {
                        return Err(PickleError::malformed(
                            offset,
                            "_frombuffer takes 4 or 5 arguments",
                        ));
                    }
                };
                Node::Array(self.frombuffer(buffer, dtype, shape, order, axis_order, offset)?)
            }
            Callable::NumpyScalar => {
                let (dtype, data) = match argv[..] {
                    [dtype, data] => (dtype, data),
                    _ => {
                        return Err(PickleError::malformed(
                            offset,
                            "numpy scalar takes 2 arguments",
                        ));
                    }
                };
                let dtype = self
                    .dtype(dtype)
                    .map_err(|e| PickleError::malformed(offset, e))?;
                let Some(Node::Bytes(bytes)) = self.heap.node(data) else {
                    return Err(PickleError::malformed(
                        offset,
                        "numpy scalar of an object dtype",
                    ));
                };
                let array = self.decode(&dtype, vec![], bytes, false, offset)?;
                return Ok(array.scalar_value(&mut self.heap)?);
            }
            Callable::CodecsEncode => {
                let text = argv.first().and_then(|v| self.heap.str(*v));
                let encoding = argv.get(1).and_then(|v| self.heap.str(*v));
                match (text, encoding) {
                    (Some(text), Some("latin1" | "latin-1")) => {
                        self.heap.budget().charge(text.len(), || {
                            format!("bytes of {} characters (byte {offset})", text.len())
                        })?;
                        let bytes = text
                            .chars()
                            .map(|c| u8::try_from(c as u32))
                            .collect::<Result<Vec<u8>, _>>()
                            .map_err(|_| {
                                PickleError::malformed(offset, "latin1 text out of range")
                            })?;
                        Node::Bytes(Cow::Owned(bytes))
                    }
                    _ => {
                        return Err(PickleError::malformed(
                            offset,
                            "_codecs.encode is only allowed as (str, 'latin1')",
                        ));
                    }
                }
            }
            Callable::EmptyBytes => {
                if !argv.is_empty() {
                    return Err(PickleError::malformed(
                        offset,
                        "builtins.bytes is only allowed without arguments (protocol 2's empty bytes)",
                    ));
                }
                Node::Bytes(Cow::Owned(Vec::new()))
            }
            Callable::Partial => {
                // Only check_array may be wrapped: a partial of anything else would hand its
                // reader a callable to run.
                let wrapped = match argv {
                    [func] => match self.heap.node(*func) {
                        Some(Node::Global(c)) => c.name(),
                        _ => "something that is not a global".to_owned(),
                    },
                    _ => format!("{} arguments", argv.len()),
                };
                if wrapped != PARTIAL_MAY_WRAP && self.mode == Mode::Load {
                    return Err(PickleError::Refused(format!(
                        "functools.partial of {wrapped}"
                    )));
                }
                Node::Object(Object {
                    class: callable.clone(),
                    args,
                    state: None,
                })
            }
            Callable::Refused(_)
            | Callable::Class(_)
            | Callable::Inert(_)
            | Callable::Slice
            | Callable::JoblibArrayWrapper => Node::Object(Object {
                class: callable.clone(),
                args,
                state: None,
            }),
            Callable::NumpyNdarray => {
                return Err(PickleError::malformed(
                    offset,
                    "numpy.ndarray called directly",
                ));
            }
        };
        Ok(self.heap.push(node)?)
    }

    fn new_object(
        &mut self,
        class: Value,
        args: Value,
        offset: usize,
    ) -> Result<Value, PickleError> {
        let class = self.callable(class, offset)?;
        match class {
            Callable::Class(_)
            | Callable::Inert(_)
            | Callable::JoblibArrayWrapper
            | Callable::Refused(_) => {
                if self.heap.tuple(args).is_none() {
                    return Err(PickleError::malformed(
                        offset,
                        "NEWOBJ arguments are not a tuple",
                    ));
                }
                Ok(self.heap.push(Node::Object(Object {
                    class,
                    args,
                    state: None,
                }))?)
            }
            other => Err(PickleError::malformed(
                offset,
                format!("NEWOBJ of {}", other.name()),
            )),
        }
    }

    fn build(
        &mut self,
        target: Value,
        state: Value,
        offset: usize,
        nesting: usize,
    ) -> Result<(), PickleError> {
        let Value::Ref(id) = target else {
            return Err(PickleError::malformed(offset, "BUILD on a scalar"));
        };
        let malformed = |e: String| PickleError::malformed(offset, e);
        match self.heap.node(target) {
            Some(Node::PendingArray) => {
                let array = self.reconstruct(state, offset)?;
                *self.heap.node_mut(id) = Node::Array(array);
            }
            Some(Node::Dtype(_)) => {
                let state = self
                    .heap
                    .tuple(state)
                    .ok_or_else(|| malformed("dtype state is not a tuple".into()))?;
                let byte_order = state
                    .get(1)
                    .and_then(|v| self.heap.str(*v))
                    .map(str::to_owned);
                let subarray = state.get(2).is_some_and(|v| *v != Value::None);
                let item_size = match state.get(5) {
                    Some(Value::Int(n)) => *n,
                    _ => -1,
                };
                if subarray {
                    return Err(malformed("sub-array dtypes are not supported".into()));
                }
                let fields = match (state.get(3), state.get(4)) {
                    (Some(Value::None) | None, Some(Value::None) | None) => None,
                    (Some(names), Some(fields)) => {
                        Some(self.record_fields(*names, *fields).map_err(malformed)?)
                    }
                    _ => return Err(malformed("a record dtype without its fields".into())),
                };
                if let Node::Dtype(dtype) = self.heap.node_mut(id) {
                    dtype
                        .apply_state(byte_order.as_deref(), item_size)
                        .map_err(malformed)?;
                    match fields {
                        Some(fields) => dtype.apply_fields(fields, item_size).map_err(malformed)?,
                        None if dtype.kind == Kind::Record => {
                            return Err(malformed("a record dtype without its fields".into()));
                        }
                        None => {}
                    }
                }
            }
            Some(Node::Object(o)) if o.class == Callable::JoblibArrayWrapper => {
                if nesting >= MAX_NESTED_STREAMS {
                    return Err(malformed("joblib arrays nest too deeply".into()));
                }
                let array = self.joblib_array(state, offset, nesting)?;
                *self.heap.node_mut(id) = Node::Array(array);
            }
            Some(Node::Object(_)) => {
                if let Node::Object(o) = self.heap.node_mut(id) {
                    o.state = Some(state);
                }
            }
            _ => return Err(malformed("BUILD on a value that takes no state".into())),
        }
        Ok(())
    }

    /// A record dtype's `names` and `fields` (name → (dtype, offset[, title])), in order.
    fn record_fields(
        &self,
        names: Value,
        fields: Value,
    ) -> Result<Vec<(String, Dtype, i64)>, String> {
        let names = self
            .heap
            .tuple(names)
            .ok_or("record field names are not a tuple")?;
        let Some(Node::Dict(entries)) = self.heap.node(fields) else {
            return Err("record fields are not a dict".into());
        };
        if names.len() > numpy::MAX_RECORD_FIELDS || entries.len() != names.len() {
            return Err(format!(
                "a record dtype with {} names and {} fields",
                names.len(),
                entries.len()
            ));
        }
        names
            .iter()
            .map(|name| {
                let name = self
                    .heap
                    .str(*name)
                    .ok_or("a record field name is not a string")?;
                let entry = entries
                    .iter()
                    .find(|(k, _)| self.heap.str(*k) == Some(name))
                    .ok_or_else(|| format!("record field '{name}' has no dtype"))?;
                let spec = self.heap.tuple(entry.1).unwrap_or(&[]);
                let (dtype, offset) = match spec {
                    [dtype, Value::Int(offset)] | [dtype, Value::Int(offset), _] => {
                        (*dtype, *offset)
                    }
                    _ => return Err(format!("record field '{name}' is not (dtype, offset)")),
                };
                Ok((name.to_owned(), self.dtype(dtype)?, offset))
            })
            .collect()
    }

    fn dtype(&self, value: Value) -> Result<Dtype, String> {
        match self.heap.node(value) {
            Some(Node::Dtype(d)) => Ok(d.clone()),
            _ => Err("expected a numpy dtype".into()),
        }
    }

    fn shape(&self, value: Value) -> Result<Vec<usize>, String> {
        let items = self.heap.tuple(value).ok_or("array shape is not a tuple")?;
        items
            .iter()
            .map(|v| match v {
                Value::Int(n) if *n >= 0 => Ok(*n as usize),
                _ => Err("array shape holds a negative or non-integer size".to_owned()),
            })
            .collect()
    }

    /// Decodes an array's bytes, once they are known to be what `shape` and `dtype` need and
    /// its decoded elements are charged (a `<U1` element is a `String`, an `int8` an `i64`).
    fn decode(
        &self,
        dtype: &Dtype,
        shape: Vec<usize>,
        bytes: &[u8],
        fortran: bool,
        offset: usize,
    ) -> Result<NdArray, PickleError> {
        let malformed = |e: String| PickleError::malformed(offset, e);
        let count = numpy::check_layout(dtype, &shape, bytes.len()).map_err(malformed)?;
        self.charge_array(dtype, &shape, count, fortran)?;
        numpy::from_bytes(dtype, shape, bytes, fortran).map_err(malformed)
    }

    /// Charges the elements of an array of `count` items before they are decoded (twice over
    /// when they arrive in Fortran order: they are reordered into a copy).
    fn charge_array(
        &self,
        dtype: &Dtype,
        shape: &[usize],
        count: usize,
        fortran: bool,
    ) -> Result<(), TooLarge> {
        let copies = if fortran && shape.len() > 1 { 2 } else { 1 };
        let each = numpy::decoded_item_bytes(dtype).saturating_mul(copies);
        self.heap.budget().charge_items(count, each, || {
            format!("an array of shape {shape:?} of {}", dtype.name())
        })
    }

    /// `ndarray.__setstate__((version, shape, dtype, is_fortran, data))`.
    fn reconstruct(&mut self, state: Value, offset: usize) -> Result<NdArray, PickleError> {
        let malformed = |e: String| PickleError::malformed(offset, e);
        let items = self
            .heap
            .tuple(state)
            .ok_or_else(|| malformed("array state is not a tuple".into()))?;
        let [_version, shape, dtype, fortran, data] = items[..] else {
            return Err(malformed(format!(
                "array state has {} items, expected 5",
                items.len()
            )));
        };
        let shape = self.shape(shape).map_err(malformed)?;
        let dtype = self.dtype(dtype).map_err(malformed)?;
        let fortran = matches!(fortran, Value::Bool(true) | Value::Int(1));
        match self.heap.node(data) {
            Some(Node::Bytes(bytes)) => self.decode(&dtype, shape, bytes, fortran, offset),
            Some(Node::List(values)) if dtype.is_object() => {
                // The list may be memoized and built into many arrays: every copy is charged.
                let count = numpy::element_count(&shape).map_err(malformed)?;
                if count != values.len() {
                    return Err(malformed(format!(
                        "object array shape {shape:?} needs {count} items but the file holds {}",
                        values.len()
                    )));
                }
                self.charge_array(&dtype, &shape, count, fortran)?;
                numpy::from_objects(shape, values.clone(), fortran).map_err(malformed)
            }
            _ => Err(malformed(
                "array data is neither bytes nor an object list".into(),
            )),
        }
    }

    /// `numpy.core.numeric._frombuffer(buffer, dtype, shape, order, axis_order=None)`,
    /// protocol 5's array form: with order `K` and an axis order, the C-ordered `shape` is
    /// transposed by it.
    fn frombuffer(
        &self,
        buffer: Value,
        dtype: Value,
        shape: Value,
        order: Value,
        axis_order: Value,
        offset: usize,
    ) -> Result<NdArray, PickleError> {
        let malformed = |e: String| PickleError::malformed(offset, e);
        let dtype = self.dtype(dtype).map_err(malformed)?;
        let shape = self.shape(shape).map_err(malformed)?;
        let order = self.heap.str(order);
        let Some(Node::Bytes(bytes)) = self.heap.node(buffer) else {
            return Err(malformed("_frombuffer needs bytes".into()));
        };
        if axis_order == Value::None || order != Some("K") {
            return self.decode(&dtype, shape, bytes, order == Some("F"), offset);
        }
        let axes = self.shape(axis_order).map_err(malformed)?;
        let count = numpy::check_layout(&dtype, &shape, bytes.len()).map_err(malformed)?;
        // Decoded, then reordered into a copy: charged twice, as a Fortran array is.
        self.charge_array(&dtype, &shape, count, true)?;
        let array = numpy::from_bytes(&dtype, shape, bytes, false).map_err(malformed)?;
        numpy::transposed(array, &axes).map_err(malformed)
    }

    /// joblib's `NumpyArrayWrapper`: its BUILD state describes the array, whose bytes follow in
    /// the stream (or, for object arrays, a whole nested pickle).
    fn joblib_array(
        &mut self,
        state: Value,
        offset: usize,
        nesting: usize,
    ) -> Result<NdArray, PickleError> {
        let malformed = |e: String| PickleError::malformed(offset, e);
        let fields = self
            .heap
            .str_dict(state)
            .ok_or_else(|| malformed("joblib wrapper state is not a dict".into()))?;
        let field = |name: &str| fields.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        let shape = self
            .shape(field("shape").ok_or_else(|| malformed("joblib wrapper has no shape".into()))?)
            .map_err(malformed)?;
        let dtype = self
            .dtype(field("dtype").ok_or_else(|| malformed("joblib wrapper has no dtype".into()))?)
            .map_err(malformed)?;
        let fortran = field("order").and_then(|v| self.heap.str(v)) == Some("F");
        let aligned = field("numpy_array_alignment_bytes").is_some_and(|v| v != Value::None);
        if dtype.is_object() {
            let inner = self.run_stream(nesting + 1)?;
            // The nested stream's array is moved out, not copied: nothing outside that stream
            // refers to it.
            if let Value::Ref(id) = inner
                && let Node::Array(array) =
                    std::mem::replace(self.heap.node_mut(id), Node::PendingArray)
            {
                return Ok(array);
            }
            return Err(malformed("joblib object array is not an array".into()));
        }
        if aligned {
            let padding = self.u8()? as usize;
            self.take(padding)?;
        }
        let count = numpy::element_count(&shape).map_err(malformed)?;
        let n_bytes = count
            .checked_mul(dtype.item_size())
            .ok_or_else(|| malformed("array size overflows".into()))?;
        // Checked against the bytes that remain before anything is charged or decoded; read
        // in place, never copied.
        let bytes = self.take(n_bytes)?;
        self.decode(&dtype, shape, bytes, fortran, offset)
    }
}

/// Values below the innermost MARK belong to an enclosing collection and cannot be popped.
fn fence(f: &Frame) -> usize {
    f.marks.last().copied().unwrap_or(0)
}

fn pop(f: &mut Frame, offset: usize) -> Result<Value, PickleError> {
    if f.stack.len() <= fence(f) {
        return Err(PickleError::malformed(offset, "stack underflow"));
    }
    f.stack
        .pop()
        .ok_or_else(|| PickleError::malformed(offset, "stack underflow"))
}

fn top(f: &Frame, offset: usize) -> Result<Value, PickleError> {
    if f.stack.len() <= fence(f) {
        return Err(PickleError::malformed(offset, "stack underflow"));
    }
    f.stack
        .last()
        .copied()
        .ok_or_else(|| PickleError::malformed(offset, "stack underflow"))
}

/// How many values lie above the innermost MARK.
fn marked(f: &Frame, offset: usize) -> Result<usize, PickleError> {
    let mark = *f
        .marks
        .last()
        .ok_or_else(|| PickleError::malformed(offset, "no MARK on the stack"))?;
    f.stack
        .len()
        .checked_sub(mark)
        .ok_or_else(|| PickleError::malformed(offset, "MARK beyond the stack"))
}

fn pop_mark(f: &mut Frame, offset: usize) -> Result<Vec<Value>, PickleError> {
    marked(f, offset)?;
    let mark = f.marks.pop().expect("marked() found a mark");
    Ok(f.stack.split_off(mark))
}

fn pairs(
    mut items: impl ExactSizeIterator<Item = Value>,
    offset: usize,
) -> Result<Vec<(Value, Value)>, PickleError> {
    if !items.len().is_multiple_of(2) {
        return Err(PickleError::malformed(
            offset,
            "odd number of items for a dict",
        ));
    }
    let mut pairs = Vec::with_capacity(items.len() / 2);
    while let (Some(key), Some(value)) = (items.next(), items.next()) {
        pairs.push((key, value));
    }
    Ok(pairs)
}
