//! The pickle machine: runs a pickle's opcodes without running code, into a [`Value`].
//!
//! It is Python's `Unpickler` with `find_class` replaced by a fixed allow-list (the pattern
//! of "Restricting Globals" in Python's documentation): each allowed global is a known-safe
//! reconstructor that this module implements itself, so nothing from the pickle is ever
//! called. Values live in an arena while the pickle runs (lists and dicts are filled after
//! they are memoized, as in Python); a memo reference is an index into it, so shared
//! values stay shared, and every allocation is charged to [`Limits::max_memory`] first.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use num_bigint::BigInt;

use super::op;
use super::scan::MAX_INT_DIGITS;
use super::value::{Array, DType, Date, DateTime, Time, TimeDelta, TimeZone, Value};
use crate::{Error, Limits, Result};

/// The longest binary integer (`LONG4`) accepted, in bytes: 4300 decimal digits.
const MAX_LONG_BYTES: usize = 1786;

/// An allow-listed global. Each is implemented here; none is ever looked up in Python.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Global {
    Set,
    FrozenSet,
    ByteArray,
    Bytes,
    List,
    Int,
    Encode,
    Complex,
    /// Builtin classes usable as a `defaultdict` factory (`dict`, `float`, ...), by name.
    Class(&'static str),
    DateTime,
    Date,
    Time,
    TimeDelta,
    TimeZone,
    Decimal,
    OrderedDict,
    DefaultDict,
    Counter,
    Deque,
    Reconstruct,
    NdArray,
    NpDType,
    NpScalar,
    FromBuffer,
}

impl Global {
    /// The class name a `defaultdict` shows for this factory, if it is a class.
    fn class_name(self) -> Option<&'static str> {
        Some(match self {
            Self::Set => "set",
            Self::FrozenSet => "frozenset",
            Self::ByteArray => "bytearray",
            Self::Bytes => "bytes",
            Self::List => "list",
            Self::Int => "int",
            Self::Complex => "complex",
            Self::Class(name) => name,
            Self::OrderedDict => "collections.OrderedDict",
            Self::DefaultDict => "collections.defaultdict",
            Self::Counter => "collections.Counter",
            Self::Deque => "collections.deque",
            Self::DateTime => "datetime.datetime",
            Self::Date => "datetime.date",
            Self::Time => "datetime.time",
            Self::TimeDelta => "datetime.timedelta",
            Self::TimeZone => "datetime.timezone",
            Self::Decimal => "decimal.Decimal",
            _ => return None,
        })
    }
}

/// Looks `module.name` up in the allow-list.
fn lookup(module: &str, name: &str) -> Option<Result<Global, Value>> {
    let builtin = matches!(module, "builtins" | "__builtin__");
    Some(Ok(match (module, name) {
        (_, "set") if builtin => Global::Set,
        (_, "frozenset") if builtin => Global::FrozenSet,
        (_, "bytearray") if builtin => Global::ByteArray,
        (_, "bytes") if builtin => Global::Bytes,
        (_, "list") if builtin => Global::List,
        // Protocols 0 to 2 write Python 3's `int` and `str` under their Python 2 names.
        (_, "int") if builtin => Global::Int,
        ("__builtin__", "long") => Global::Int,
        ("__builtin__", "unicode") => Global::Class("str"),
        (_, "complex") if builtin => Global::Complex,
        (_, "dict") if builtin => Global::Class("dict"),
        (_, "float") if builtin => Global::Class("float"),
        (_, "str") if builtin => Global::Class("str"),
        (_, "tuple") if builtin => Global::Class("tuple"),
        (_, "bool") if builtin => Global::Class("bool"),
        ("_codecs", "encode") => Global::Encode,
        ("datetime", "datetime") => Global::DateTime,
        ("datetime", "date") => Global::Date,
        ("datetime", "time") => Global::Time,
        ("datetime", "timedelta") => Global::TimeDelta,
        ("datetime", "timezone") => Global::TimeZone,
        ("datetime", "timezone.utc" | "UTC") => {
            return Some(Err(Value::TimeZone(Arc::new(TimeZone::utc()))));
        }
        ("decimal", "Decimal") => Global::Decimal,
        ("collections", "OrderedDict") => Global::OrderedDict,
        ("collections", "defaultdict") => Global::DefaultDict,
        ("collections", "Counter") => Global::Counter,
        ("collections", "deque") => Global::Deque,
        ("numpy.core.multiarray" | "numpy._core.multiarray", "_reconstruct") => Global::Reconstruct,
        ("numpy.core.multiarray" | "numpy._core.multiarray", "scalar") => Global::NpScalar,
        ("numpy.core.numeric" | "numpy._core.numeric", "_frombuffer") => Global::FromBuffer,
        ("numpy", "ndarray") => Global::NdArray,
        ("numpy", "dtype") => Global::NpDType,
        _ => return None,
    }))
}

type Id = usize;

/// One item on the stack, in the memo or in a container.
#[derive(Clone, Debug)]
enum Slot {
    /// A finished, immutable value.
    Val(Value),
    /// A value in the arena (containers, bytes still in the input, pending numpy objects).
    Node(Id),
    /// An allowed global.
    Global(Global),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DictKind {
    Plain,
    Ordered,
    Counter,
    Default(Option<&'static str>),
}

#[derive(Debug)]
enum Node {
    /// `bytes` (or `bytearray`) whose content is `data[start..end]`, copied when finished.
    Raw {
        start: usize,
        end: usize,
        bytearray: bool,
    },
    List(Vec<Slot>),
    Deque(VecDeque<Slot>, Option<u64>),
    Tuple(Vec<Slot>),
    Dict {
        kind: DictKind,
        items: Vec<(Slot, Slot)>,
        index: HashMap<Key, usize>,
    },
    Set {
        frozen: bool,
        items: Vec<Slot>,
        index: HashSet<Key>,
    },
    /// `numpy.dtype(code, False, True)` before or after its `BUILD`.
    DType(DType),
    /// `_reconstruct(ndarray, (0,), b'b')` waiting for its `BUILD`.
    PendingArray,
    /// A finished value (an array after its `BUILD`).
    Done(Value),
}

/// What makes two dict keys (or set items) the same, as Python's `==` and `hash` would
/// for the hashable values a pickle holds: `1`, `1.0` and `True` are one key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    None,
    Int(i128),
    Big(String),
    Float(u64),
    /// A NaN, equal to no other key (Python's `nan != nan`: a set keeps every NaN object).
    Nan(u64),
    Str(Arc<str>),
    Bytes(Vec<u8>),
    Tuple(Vec<Key>),
    Other(String),
}

impl Key {
    /// About the memory a key takes, charged to the budget (each dict or set holds a copy).
    fn size(&self) -> usize {
        std::mem::size_of::<Self>()
            + match self {
                Self::Big(s) | Self::Other(s) => s.len(),
                Self::Str(s) => s.len(),
                Self::Bytes(b) => b.len(),
                Self::Tuple(items) => items.iter().map(Self::size).sum(),
                _ => 0,
            }
    }
}

enum Cached {
    Todo,
    Busy,
    Done(Value),
}

struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    at: usize,
    stack: Vec<Slot>,
    marks: Vec<usize>,
    memo: HashMap<u64, Slot>,
    nodes: Vec<Node>,
    /// Levels of nesting below each node, as far as known when it was made or filled.
    depths: Vec<usize>,
    limits: &'a Limits,
    spent: usize,
    /// NaN keys made so far, each one's [`Key::Nan`] number.
    nans: std::cell::Cell<u64>,
    /// The buffer `data` is a slice of, when arrays may share it.
    shared: Option<Shared<'a>>,
    /// The largest array sharing it: its item alignment and its bytes in the buffer.
    largest: Option<(usize, std::ops::Range<usize>)>,
}

/// A buffer that arrays share instead of copying their data: `data` is `buf[base..]`.
#[derive(Clone, Copy)]
struct Shared<'a> {
    buf: &'a Arc<Vec<u8>>,
    base: usize,
}

/// Decodes one pickle; see the module docs.
pub(super) fn decode(data: &[u8], limits: &Limits) -> Result<Value> {
    run(data, None, limits).map(|(value, _)| value)
}

/// Arrays at least this large get their data aligned by [`decode_file`]; smaller ones are
/// cheap to copy when a reader needs them aligned.
const ALIGN_FROM: usize = 1 << 20;

/// The most [`decode_file`] shifts a file by: the largest item alignment, less one.
pub(super) const MAX_SHIFT: usize = 7;

/// Decodes a whole file's bytes, which its arrays then share instead of copying them (so
/// the decoded pickle takes little more memory than the file). When the largest array's
/// data (from 1 MiB) is not aligned for its items, the bytes are moved up to
/// [`MAX_SHIFT`] places within their buffer and decoded again, so that readers can view the
/// items in place ([`Array::as_slice`]); `bytes` should have that much spare capacity, or
/// the move reallocates.
pub(super) fn decode_file(mut bytes: Vec<u8>, limits: &Limits) -> Result<Value> {
    let len = bytes.len();
    bytes.reserve_exact(MAX_SHIFT);
    let buf = Arc::new(bytes);
    let (value, largest) = run(&buf, Some(Shared { buf: &buf, base: 0 }), limits)?;
    let shift = match largest {
        Some((align, range)) if range.len() >= ALIGN_FROM => {
            let addr = buf.as_ptr() as usize + range.start;
            (align - addr % align) % align
        }
        _ => 0,
    };
    if shift == 0 {
        return Ok(value);
    }
    drop(value);
    // Nothing else holds the buffer once the value is gone.
    let mut bytes = match Arc::try_unwrap(buf) {
        Ok(bytes) => bytes,
        Err(buf) => {
            return run(&buf, Some(Shared { buf: &buf, base: 0 }), limits).map(|(value, _)| value);
        }
    };
    // Within the reserved capacity: no reallocation, so the address the shift was
    // computed from stays.
    bytes.resize(len + shift, 0);
    bytes.copy_within(0..len, shift);
    let buf = Arc::new(bytes);
    run(
        &buf[shift..],
        Some(Shared {
            buf: &buf,
            base: shift,
        }),
        limits,
    )
    .map(|(value, _)| value)
}

type Largest = Option<(usize, std::ops::Range<usize>)>;

fn run(data: &[u8], shared: Option<Shared<'_>>, limits: &Limits) -> Result<(Value, Largest)> {
    if data.len() > limits.max_len {
        return Err(Error::FrameTooLarge {
            len: data.len() as u64,
            max: limits.max_len,
        });
    }
    if data.is_empty() {
        return Err(Error::Pickle("empty input".into()));
    }
    let mut machine = Machine {
        data,
        pos: 0,
        at: 0,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        nodes: Vec::new(),
        depths: Vec::new(),
        limits,
        spent: 0,
        nans: std::cell::Cell::new(0),
        shared,
        largest: None,
    };
    let root = machine.run()?;
    let mut cache: Vec<Cached> = Vec::new();
    cache.resize_with(machine.nodes.len(), || Cached::Todo);
    let value = machine.finish(&root, 0, &mut cache)?;
    Ok((value, machine.largest))
}

/// The memory charged for one slot: the slot while decoding, the value it becomes.
const SLOT_COST: usize = std::mem::size_of::<Slot>() + std::mem::size_of::<Value>();

impl Machine<'_> {
    fn fail<T>(&self, what: impl std::fmt::Display) -> Result<T> {
        Err(Error::Pickle(format!(
            "{what} (opcode at byte {})",
            self.at
        )))
    }

    fn spend(&mut self, bytes: usize) -> Result<()> {
        self.spent = self.spent.saturating_add(bytes);
        if self.spent > self.limits.max_memory {
            return Err(Error::TooLarge {
                what: "the decoded pickle",
                max: self.limits.max_memory,
                offset: Some(self.at),
            });
        }
        Ok(())
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        match self.data.get(self.pos..).and_then(|rest| rest.get(..n)) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => self.fail(format_args!(
                "{n} bytes announced but only {} left: the pickle is truncated",
                self.data.len() - self.pos
            )),
        }
    }

    fn line(&mut self) -> Result<&[u8]> {
        let rest = &self.data[self.pos..];
        match rest.iter().position(|&b| b == b'\n') {
            Some(end) => {
                self.pos += end + 1;
                Ok(&rest[..end])
            }
            None => self.fail("a text argument has no end of line: the pickle is truncated"),
        }
    }

    fn len_prefixed(&mut self, width: usize) -> Result<usize> {
        let raw = self.take(width)?;
        let mut buf = [0u8; 8];
        buf[..width].copy_from_slice(raw);
        let len = u64::from_le_bytes(buf);
        if width == 4 && len > i32::MAX as u64 && self.data[self.at] == op::BINSTRING {
            return self.fail("BINSTRING with a negative length");
        }
        if len > (self.data.len() - self.pos) as u64 {
            return self.fail(format_args!(
                "a string of {len} bytes runs past the end of the pickle ({} bytes left)",
                self.data.len() - self.pos
            ));
        }
        Ok(len as usize)
    }

    fn push(&mut self, slot: Slot) -> Result<()> {
        self.spend(SLOT_COST)?;
        self.stack.push(slot);
        Ok(())
    }

    fn push_val(&mut self, value: Value) -> Result<()> {
        self.push(Slot::Val(value))
    }

    fn node(&mut self, node: Node) -> Result<Slot> {
        self.spend(std::mem::size_of::<Node>())?;
        let depth = match &node {
            Node::List(items) | Node::Tuple(items) => self.depth_of(items.iter())?,
            _ => 0,
        };
        self.nodes.push(node);
        self.depths.push(depth);
        Ok(Slot::Node(self.nodes.len() - 1))
    }

    /// One more than the deepest of `items`, checked against the limit.
    fn depth_of<'s>(&self, items: impl Iterator<Item = &'s Slot>) -> Result<usize> {
        let depth = items
            .map(|slot| match slot {
                Slot::Node(id) => self.depths[*id] + 1,
                _ => 1,
            })
            .max()
            .unwrap_or(0);
        if depth > self.limits.max_depth {
            return Err(Error::TooDeep {
                max: self.limits.max_depth,
            });
        }
        Ok(depth)
    }

    fn deepen(&mut self, id: Id, items: &[Slot]) -> Result<()> {
        let depth = self.depth_of(items.iter())?;
        self.depths[id] = self.depths[id].max(depth);
        Ok(())
    }

    fn push_node(&mut self, node: Node) -> Result<()> {
        let slot = self.node(node)?;
        self.push(slot)
    }

    fn pop(&mut self) -> Result<Slot> {
        if self.marks.last().is_some_and(|&m| m >= self.stack.len()) {
            return self.fail("stack underflow (an item was expected after the MARK)");
        }
        match self.stack.pop() {
            Some(slot) => Ok(slot),
            None => self.fail("stack underflow"),
        }
    }

    fn pop_mark(&mut self) -> Result<Vec<Slot>> {
        let Some(mark) = self.marks.pop() else {
            return self.fail("no MARK to pop to");
        };
        Ok(self.stack.drain(mark..).collect())
    }

    fn top_id(&self) -> Result<Id> {
        if self.marks.last().is_some_and(|&m| m >= self.stack.len()) {
            return self.fail("stack underflow (no container below the MARK)");
        }
        match self.stack.last() {
            Some(Slot::Node(id)) => Ok(*id),
            Some(_) => self.fail("APPEND, SETITEM or ADDITEMS on a value that is not a container"),
            None => self.fail("stack underflow (no container to add to)"),
        }
    }

    fn ascii_number<T: std::str::FromStr>(&self, raw: &[u8]) -> Result<T> {
        match std::str::from_utf8(raw)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            Some(n) => Ok(n),
            None => self.fail(format_args!(
                "{:?} is not a number",
                String::from_utf8_lossy(raw)
            )),
        }
    }

    fn text(&self, raw: &[u8]) -> Result<Arc<str>> {
        match std::str::from_utf8(raw) {
            Ok(text) => Ok(text.into()),
            Err(err) => self.fail(format_args!("a string is not valid UTF-8 ({err})")),
        }
    }

    fn push_str(&mut self, raw: &[u8]) -> Result<()> {
        self.spend(raw.len())?;
        let text = self.text(raw)?;
        self.push_val(Value::Str(text))
    }

    fn push_raw(&mut self, n: usize, bytearray: bool) -> Result<()> {
        let start = self.pos;
        self.take(n)?;
        self.spend(n)?;
        self.push_node(Node::Raw {
            start,
            end: start + n,
            bytearray,
        })
    }

    fn push_int(&mut self, value: BigInt) -> Result<()> {
        match i64::try_from(&value) {
            Ok(small) => self.push_val(Value::Int(small)),
            Err(_) => {
                self.spend(value.bits() as usize / 8 + 16)?;
                self.push_val(Value::BigInt(Arc::new(value)))
            }
        }
    }

    fn decimal_int(&mut self, line: &[u8]) -> Result<()> {
        let digits = line.iter().filter(|b| b.is_ascii_digit()).count();
        if digits > MAX_INT_DIGITS {
            return self.fail(format_args!(
                "an integer of {digits} digits exceeds the limit of {MAX_INT_DIGITS}"
            ));
        }
        let text = String::from_utf8_lossy(line);
        let text = text.trim().trim_end_matches('L');
        match text {
            "00" => return self.push_val(Value::Bool(false)),
            "01" => return self.push_val(Value::Bool(true)),
            _ => {}
        }
        match text.parse::<BigInt>() {
            Ok(n) => self.push_int(n),
            Err(_) => self.fail(format_args!("{text:?} is not an integer")),
        }
    }

    fn memoize(&mut self, id: u64) -> Result<()> {
        let Some(top) = self.stack.last().cloned() else {
            return self.fail("nothing on the stack to memoize");
        };
        self.spend(SLOT_COST)?;
        self.memo.insert(id, top);
        Ok(())
    }

    fn get(&mut self, id: u64) -> Result<()> {
        match self.memo.get(&id).cloned() {
            Some(slot) => self.push(slot),
            None => self.fail(format_args!("memo entry {id} is used before it is defined")),
        }
    }

    fn global(&mut self, module: &str, name: &str) -> Result<()> {
        match lookup(module, name) {
            Some(Ok(global)) => self.push(Slot::Global(global)),
            Some(Err(value)) => self.push_val(value),
            None => Err(Error::PickleGlobal {
                name: format!("{module}.{name}"),
                offset: self.at,
            }),
        }
    }

    fn refuse<T>(&self, what: &str) -> Result<T> {
        Err(Error::PickleGlobal {
            name: what.to_string(),
            offset: self.at,
        })
    }

    /// The key that `slot` is as a dict key or set item.
    fn key(&self, slot: &Slot, depth: usize) -> Result<Key> {
        if depth > self.limits.max_depth {
            return Err(Error::TooDeep {
                max: self.limits.max_depth,
            });
        }
        Ok(match slot {
            Slot::Val(value) => match value {
                Value::None => Key::None,
                Value::Bool(b) => Key::Int(i128::from(*b)),
                Value::Int(i) => Key::Int(i128::from(*i)),
                Value::BigInt(b) => Key::Big(b.to_string()),
                Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e18 => Key::Int(*f as i128),
                Value::Float(f) if f.is_nan() => {
                    self.nans.set(self.nans.get() + 1);
                    Key::Nan(self.nans.get())
                }
                Value::Float(f) => Key::Float(f.to_bits()),
                Value::Str(s) => Key::Str(s.clone()),
                Value::Bytes(b) => Key::Bytes(b.to_vec()),
                Value::List(_) | Value::Dict(_) | Value::Set(_) | Value::ByteArray(_) => {
                    return self.fail("an unhashable value (list, dict, set) used as a dict key");
                }
                other => Key::Other(format!("{other:?}")),
            },
            Slot::Node(id) => match &self.nodes[*id] {
                Node::Raw {
                    start,
                    end,
                    bytearray: false,
                } => Key::Bytes(self.data[*start..*end].to_vec()),
                Node::Tuple(items) => Key::Tuple(
                    items
                        .iter()
                        .map(|item| self.key(item, depth + 1))
                        .collect::<Result<_>>()?,
                ),
                Node::Set {
                    frozen: true,
                    items,
                    ..
                } => {
                    let mut keys: Vec<String> = items
                        .iter()
                        .map(|item| self.key(item, depth + 1).map(|k| format!("{k:?}")))
                        .collect::<Result<_>>()?;
                    keys.sort();
                    Key::Other(keys.join(","))
                }
                Node::Done(Value::Array(_)) => {
                    return self.fail("a numpy array used as a dict key (arrays are unhashable)");
                }
                Node::Done(value) => Key::Other(format!("{value:?}")),
                _ => return self.fail("an unhashable value (list, dict, set) used as a dict key"),
            },
            Slot::Global(global) => Key::Other(format!("{global:?}")),
        })
    }

    fn set_items(&mut self, id: Id, pairs: Vec<Slot>) -> Result<()> {
        if !pairs.len().is_multiple_of(2) {
            return self.fail("SETITEMS with an odd number of items");
        }
        self.deepen(id, &pairs)?;
        let mut iter = pairs.into_iter();
        while let (Some(k), Some(v)) = (iter.next(), iter.next()) {
            let key = self.key(&k, 0)?;
            self.spend(SLOT_COST + key.size())?;
            let Node::Dict { items, index, .. } = &mut self.nodes[id] else {
                return self.fail("SETITEM on a value that is not a dict");
            };
            match index.get(&key) {
                // Python keeps the first key and the last value.
                Some(&at) => items[at].1 = v,
                None => {
                    index.insert(key, items.len());
                    items.push((k, v));
                }
            }
        }
        Ok(())
    }

    fn append(&mut self, id: Id, new: Vec<Slot>) -> Result<()> {
        self.deepen(id, &new)?;
        match &mut self.nodes[id] {
            Node::List(items) => items.extend(new),
            Node::Deque(items, maxlen) => {
                for item in new {
                    items.push_back(item);
                    // A bounded deque drops from the left, as `deque.extend` does.
                    if maxlen.is_some_and(|max| items.len() as u64 > max) {
                        items.pop_front();
                    }
                }
            }
            _ => return self.fail("APPEND on a value that is not a list"),
        }
        Ok(())
    }

    fn add_to_set(&mut self, id: Id, new: Vec<Slot>) -> Result<()> {
        self.deepen(id, &new)?;
        for item in new {
            let key = self.key(&item, 0)?;
            self.spend(key.size())?;
            let Node::Set {
                frozen: false,
                items,
                index,
            } = &mut self.nodes[id]
            else {
                return self.fail("ADDITEMS on a value that is not a set");
            };
            if index.insert(key) {
                items.push(item);
            }
        }
        Ok(())
    }

    fn new_set(&mut self, frozen: bool, items: Vec<Slot>) -> Result<Slot> {
        let slot = self.node(Node::Set {
            frozen: false,
            items: Vec::new(),
            index: HashSet::new(),
        })?;
        let Slot::Node(id) = slot else { unreachable!() };
        self.add_to_set(id, items)?;
        if let Node::Set { frozen: f, .. } = &mut self.nodes[id] {
            *f = frozen;
        }
        Ok(slot)
    }

    /// A copy of the items of a tuple (or list) argument, charged to the budget: a memo
    /// reference can hand the same large list to any number of calls.
    fn seq_items(&mut self, slot: &Slot, what: &str) -> Result<Vec<Slot>> {
        let items = match slot {
            Slot::Node(id) => match &self.nodes[*id] {
                Node::Tuple(items) | Node::List(items) | Node::Set { items, .. } => items,
                _ => return self.fail(format_args!("{what}: expected a tuple or list")),
            },
            _ => return self.fail(format_args!("{what}: expected a tuple or list")),
        };
        let cost = items.len().saturating_mul(SLOT_COST);
        let items = items.clone();
        self.spend(cost)?;
        Ok(items)
    }

    fn bytes_of<'s>(&'s self, slot: &'s Slot) -> Option<Cow<'s, [u8]>> {
        match slot {
            Slot::Val(Value::Bytes(b)) => Some(Cow::Borrowed(b.as_slice())),
            Slot::Node(id) => match &self.nodes[*id] {
                Node::Raw { start, end, .. } => Some(Cow::Borrowed(&self.data[*start..*end])),
                _ => None,
            },
            _ => None,
        }
    }

    fn int_of(slot: &Slot) -> Option<i64> {
        match slot {
            Slot::Val(Value::Int(i)) => Some(*i),
            Slot::Val(Value::Bool(b)) => Some(i64::from(*b)),
            _ => None,
        }
    }

    fn float_of(slot: &Slot) -> Option<f64> {
        match slot {
            Slot::Val(Value::Float(f)) => Some(*f),
            other => Self::int_of(other).map(|i| i as f64),
        }
    }

    fn str_of(slot: &Slot) -> Option<&str> {
        match slot {
            Slot::Val(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    fn tz_of(&self, slot: Option<&Slot>) -> Result<Option<Arc<TimeZone>>> {
        match slot {
            None | Some(Slot::Val(Value::None)) => Ok(None),
            Some(Slot::Val(Value::TimeZone(tz))) => Ok(Some(tz.clone())),
            Some(_) => self.fail("a datetime's tzinfo is not a datetime.timezone"),
        }
    }

    fn dtype_of(&self, slot: &Slot) -> Result<DType> {
        match slot {
            Slot::Node(id) => match &self.nodes[*id] {
                Node::DType(dtype) => Ok(*dtype),
                _ => self.fail("expected a numpy.dtype"),
            },
            _ => self.fail("expected a numpy.dtype"),
        }
    }

    fn shape_of(&mut self, slot: &Slot) -> Result<Vec<usize>> {
        let dims = self.seq_items(slot, "an array's shape")?;
        dims.iter()
            .map(|d| match Self::int_of(d) {
                Some(n) if n >= 0 => Ok(n as usize),
                _ => self.fail("an array's shape holds something other than sizes"),
            })
            .collect()
    }

    fn array(
        &mut self,
        dtype: DType,
        shape: Vec<usize>,
        fortran: bool,
        data: &Slot,
    ) -> Result<Array> {
        // The data is shared, not copied, when it is a slice of a shared input (a file read
        // by `load`) or a bytes value (made by `_codecs.encode` in protocol 2).
        let (len, made) = match data {
            Slot::Node(id) => match (&self.nodes[*id], self.shared) {
                (&Node::Raw { start, end, .. }, Some(shared)) => {
                    let range = shared.base + start..shared.base + end;
                    let made =
                        Array::shared(dtype, shape.clone(), fortran, shared.buf, range.clone());
                    if made.is_some() {
                        self.note_shared(dtype, range);
                    }
                    (end - start, made)
                }
                (&Node::Raw { start, end, .. }, None) => (
                    end - start,
                    Array::new(dtype, shape.clone(), fortran, &self.data[start..end]),
                ),
                _ => return self.fail("an array's data is not bytes"),
            },
            Slot::Val(Value::Bytes(b)) => (
                b.len(),
                Array::shared(dtype, shape.clone(), fortran, b, 0..b.len()),
            ),
            _ => return self.fail("an array's data is not bytes"),
        };
        match made {
            Some(array) => {
                self.spend(len)?;
                Ok(array)
            }
            None => self.fail(format_args!(
                "an array of shape {shape:?} and dtype {} does not hold {len} bytes of data (or has more than 64 dimensions)",
                dtype.name()
            )),
        }
    }

    /// Remembers the largest array sharing the input, for [`decode_file`]'s alignment.
    fn note_shared(&mut self, dtype: DType, range: std::ops::Range<usize>) {
        if self
            .largest
            .as_ref()
            .is_none_or(|(_, r)| r.len() < range.len())
        {
            self.largest = Some((dtype.size.clamp(1, 8), range));
        }
    }

    fn reduce(&mut self) -> Result<()> {
        let args_slot = self.pop()?;
        let callable = self.pop()?;
        let Slot::Global(global) = callable else {
            return self.fail("REDUCE on something that is not an allowed reconstructor");
        };
        let args = match &args_slot {
            // No allowed reconstructor takes more than 4 arguments: refuse a long tuple
            // before copying it.
            Slot::Node(id) => match &self.nodes[*id] {
                Node::Tuple(items) if items.len() <= 4 => items.clone(),
                Node::Tuple(_) => {
                    return self
                        .fail("REDUCE with more arguments than any allowed reconstructor takes");
                }
                _ => return self.fail("REDUCE's arguments are not a tuple"),
            },
            _ => return self.fail("REDUCE's arguments are not a tuple"),
        };
        let name = global.class_name().unwrap_or("a numpy reconstructor");
        let bad = |this: &Self, what: &str| -> Result<()> {
            this.fail(format_args!("`{name}` called with {what}"))
        };
        match global {
            Global::Bytes if args.is_empty() => self.push_val(Value::Bytes(Arc::default())),
            // Python writes non-empty `bytes` with `_codecs.encode`, never with `bytes(...)`,
            // whose arguments could be anything (`bytes(10**9)` allocates a gigabyte).
            Global::Bytes => {
                self.fail("`bytes` called with arguments (Python pickles only `bytes()`)")
            }
            Global::ByteArray => match args.as_slice() {
                [] => self.push_val(Value::ByteArray(Arc::default())),
                [arg] => match self.bytes_of(arg) {
                    Some(b) => {
                        let b = b.into_owned();
                        self.spend(b.len())?;
                        self.push_val(Value::ByteArray(Arc::new(b)))
                    }
                    None => bad(self, "something other than bytes"),
                },
                _ => bad(self, "several arguments"),
            },
            Global::Set | Global::FrozenSet => {
                let items = match args.as_slice() {
                    [] => Vec::new(),
                    [arg] => self.seq_items(arg, "set")?,
                    _ => return bad(self, "several arguments"),
                };
                let slot = self.new_set(global == Global::FrozenSet, items)?;
                self.push(slot)
            }
            Global::List => {
                let items = match args.as_slice() {
                    [] => Vec::new(),
                    [arg] => self.seq_items(arg, "list")?,
                    _ => return bad(self, "several arguments"),
                };
                self.push_node(Node::List(items))
            }
            Global::Int => match args.as_slice() {
                [arg @ Slot::Val(Value::Int(_) | Value::BigInt(_) | Value::Bool(_))] => {
                    let arg = arg.clone();
                    self.push(arg)
                }
                _ => bad(self, "something other than an integer"),
            },
            Global::Encode => self.encode(&args),
            Global::Complex => match args.as_slice() {
                [re] | [re, Slot::Val(Value::None)] => match Self::float_of(re) {
                    Some(re) => self.push_val(Value::Complex(re, 0.0)),
                    None => bad(self, "something other than numbers"),
                },
                [re, im] => match (Self::float_of(re), Self::float_of(im)) {
                    (Some(re), Some(im)) => self.push_val(Value::Complex(re, im)),
                    _ => bad(self, "something other than numbers"),
                },
                _ => bad(self, "other than one or two numbers"),
            },
            Global::DateTime | Global::Date | Global::Time => self.datetime(global, &args),
            Global::TimeDelta => {
                let parts: Option<Vec<i64>> = args.iter().map(Self::int_of).collect();
                match parts.as_deref() {
                    Some(parts) if parts.len() <= 3 => {
                        let get = |i: usize| parts.get(i).copied().unwrap_or(0);
                        match TimeDelta::new(get(0), get(1), get(2)) {
                            Some(delta) => self.push_val(Value::TimeDelta(delta)),
                            None => bad(self, "a duration beyond ±999999999 days"),
                        }
                    }
                    _ => bad(self, "something other than days, seconds, microseconds"),
                }
            }
            Global::TimeZone => {
                let (offset, name) = match args.as_slice() {
                    [Slot::Val(Value::TimeDelta(delta))] => (*delta, None),
                    [Slot::Val(Value::TimeDelta(delta)), Slot::Val(Value::Str(name))] => {
                        (*delta, Some(name.clone()))
                    }
                    _ => return bad(self, "something other than a timedelta (and a name)"),
                };
                if offset.total_microseconds().abs() >= 86_400_000_000 {
                    return bad(self, "an offset of 24 hours or more");
                }
                self.push_val(Value::TimeZone(Arc::new(TimeZone { offset, name })))
            }
            Global::Decimal => match args.as_slice() {
                [Slot::Val(Value::Str(text))] => match canonical_decimal(text) {
                    Some(canon) => self.push_val(Value::Decimal(canon.into())),
                    None => bad(self, "a string that is not a decimal number"),
                },
                _ => bad(self, "something other than a string"),
            },
            Global::OrderedDict | Global::Counter | Global::DefaultDict => {
                let (kind, initial) = match (global, args.as_slice()) {
                    (Global::OrderedDict, []) => (DictKind::Ordered, None),
                    (Global::Counter, []) => (DictKind::Counter, None),
                    (Global::Counter, [dict]) => (DictKind::Counter, Some(dict.clone())),
                    (Global::DefaultDict, []) | (Global::DefaultDict, [Slot::Val(Value::None)]) => {
                        (DictKind::Default(None), None)
                    }
                    (Global::DefaultDict, [Slot::Global(factory)]) => match factory.class_name() {
                        Some(name) => (DictKind::Default(Some(name)), None),
                        None => return bad(self, "a default factory that is not a class"),
                    },
                    _ => return bad(self, "unexpected arguments"),
                };
                let items = match initial {
                    None => Vec::new(),
                    Some(Slot::Node(id)) => match &self.nodes[id] {
                        Node::Dict {
                            kind: DictKind::Plain,
                            items,
                            ..
                        } => items.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect(),
                        _ => return bad(self, "something other than a dict"),
                    },
                    Some(_) => return bad(self, "something other than a dict"),
                };
                let slot = self.node(Node::Dict {
                    kind,
                    items: Vec::new(),
                    index: HashMap::new(),
                })?;
                let Slot::Node(id) = slot else { unreachable!() };
                self.set_items(id, items)?;
                self.push(slot)
            }
            Global::Deque => {
                let (items, maxlen) = match args.as_slice() {
                    [] => (Vec::new(), None),
                    [items] => (self.seq_items(items, "deque")?, None),
                    [items, Slot::Val(Value::None)] => (self.seq_items(items, "deque")?, None),
                    [items, max] => match Self::int_of(max) {
                        Some(max) if max >= 0 => (self.seq_items(items, "deque")?, Some(max as u64)),
                        _ => return bad(self, "a maxlen that is not a size"),
                    },
                    _ => return bad(self, "unexpected arguments"),
                };
                let slot = self.node(Node::Deque(VecDeque::new(), maxlen))?;
                let Slot::Node(id) = slot else { unreachable!() };
                self.append(id, items)?;
                self.push(slot)
            }
            Global::Reconstruct => match args.as_slice() {
                [Slot::Global(Global::NdArray), _, _] => self.push_node(Node::PendingArray),
                _ => self.fail("numpy `_reconstruct` called with something other than numpy.ndarray"),
            },
            Global::NpDType => match args.as_slice() {
                [Slot::Val(Value::Str(code)), ..] => match DType::from_code(code) {
                    Some(dtype) => self.push_node(Node::DType(dtype)),
                    None if code.starts_with('O') => self.refuse(
                        "numpy.dtype('O') (object arrays carry further pickled objects)",
                    ),
                    None => self.fail(format_args!(
                        "numpy dtype {code:?} is not supported (only bool, integer, float and complex dtypes)"
                    )),
                },
                _ => self.fail("numpy.dtype called with something other than a type code"),
            },
            Global::NpScalar => match args.as_slice() {
                [dtype, data] => {
                    let dtype = self.dtype_of(dtype)?;
                    let array = self.array(dtype, Vec::new(), false, data)?;
                    self.push_val(Value::Scalar(Arc::new(array)))
                }
                _ => self.fail("numpy `scalar` called with unexpected arguments"),
            },
            Global::FromBuffer => match args.as_slice() {
                [buf, dtype, shape, Slot::Val(Value::Str(order))] => {
                    let dtype = self.dtype_of(dtype)?;
                    let shape = self.shape_of(shape)?;
                    let fortran = match &**order {
                        "C" => false,
                        "F" => true,
                        _ => return self.fail("numpy `_frombuffer` with an order other than C or F"),
                    };
                    let array = self.array(dtype, shape, fortran, buf)?;
                    self.push_val(Value::Array(Arc::new(array)))
                }
                _ => self.fail("numpy `_frombuffer` called with unexpected arguments"),
            },
            // Allowed as arguments (a `defaultdict` factory, `_reconstruct`'s class), never called.
            Global::NdArray => self.refuse("numpy.ndarray (called directly)"),
            Global::Class(class) => self.refuse(&format!("builtins.{class}")),
        }
    }

    /// `_codecs.encode(text, 'latin1')`: how protocols 0 to 2 write `bytes`.
    fn encode(&mut self, args: &[Slot]) -> Result<()> {
        let [Slot::Val(Value::Str(text)), Slot::Val(Value::Str(encoding))] = args else {
            return self.fail(
                "`_codecs.encode` called with something other than a string and an encoding",
            );
        };
        let normal = encoding.to_ascii_lowercase().replace(['-', ' '], "_");
        if !matches!(
            normal.as_str(),
            "latin1" | "latin_1" | "iso_8859_1" | "iso8859_1" | "l1" | "latin" | "cp819" | "8859"
        ) {
            return self.fail(format_args!(
                "`_codecs.encode` with the encoding {encoding:?}: only latin-1 (what protocols 0 to 2 write for bytes) is implemented exactly"
            ));
        }
        let mut out = Vec::with_capacity(text.len());
        for c in text.chars() {
            match u8::try_from(u32::from(c)) {
                Ok(b) => out.push(b),
                Err(_) => {
                    return self.fail(format_args!(
                        "`_codecs.encode` to latin-1 of the character {c:?}, which latin-1 cannot encode"
                    ));
                }
            }
        }
        self.spend(out.len())?;
        self.push_val(Value::Bytes(Arc::new(out)))
    }

    fn datetime(&mut self, global: Global, args: &[Slot]) -> Result<()> {
        let what = global.class_name().unwrap_or("datetime");
        let Some(state) = args.first().and_then(|a| self.bytes_of(a)) else {
            return self.fail(format_args!(
                "`{what}` called with something other than its pickled state (bytes)"
            ));
        };
        let state = state.into_owned();
        let tz = self.tz_of(args.get(1))?;
        let bad = |this: &Self| {
            this.fail::<()>(format_args!(
                "`{what}` state {:?} is not a valid {what}",
                super::repr::bytes_repr(&state)
            ))
        };
        let time_at = |b: &[u8], tz: Option<Arc<TimeZone>>| Time {
            hour: b[0] & 0x7f,
            minute: b[1],
            second: b[2],
            microsecond: (u32::from(b[3]) << 16) | (u32::from(b[4]) << 8) | u32::from(b[5]),
            fold: b[0] & 0x80 != 0,
            tz,
        };
        match (global, state.len(), args.len()) {
            (Global::Date, 4, 1) => {
                let date = Date {
                    year: u16::from_be_bytes([state[0], state[1]]),
                    month: state[2],
                    day: state[3],
                };
                if !date.is_valid() {
                    return bad(self);
                }
                self.push_val(Value::Date(date))
            }
            (Global::Time, 6, 1 | 2) => {
                let time = time_at(&state, tz);
                if !time.is_valid() {
                    return bad(self);
                }
                self.push_val(Value::Time(Arc::new(time)))
            }
            (Global::DateTime, 10, 1 | 2) => {
                let date = Date {
                    year: u16::from_be_bytes([state[0], state[1]]),
                    month: state[2] & 0x7f,
                    day: state[3],
                };
                let mut time = time_at(&state[4..], tz);
                time.fold = state[2] & 0x80 != 0;
                time.hour = state[4];
                if !date.is_valid() || !time.is_valid() {
                    return bad(self);
                }
                self.push_val(Value::DateTime(Arc::new(DateTime { date, time })))
            }
            _ => self.fail(format_args!(
                "`{what}` called with unexpected arguments (Python pickles its state as bytes)"
            )),
        }
    }

    fn build(&mut self) -> Result<()> {
        let state = self.pop()?;
        let target = match self.stack.last() {
            Some(Slot::Node(id)) => *id,
            _ => return self.refuse("BUILD (an instance's state)"),
        };
        match self.nodes[target] {
            Node::DType(mut dtype) => {
                let items = self.seq_items(&state, "a numpy.dtype's state")?;
                let endian = items.get(1).and_then(Self::str_of);
                let plain = items.len() >= 8
                    && items[2..5]
                        .iter()
                        .all(|s| matches!(s, Slot::Val(Value::None)));
                if !plain {
                    return self.fail("structured or sub-array numpy dtypes are not supported");
                }
                match endian {
                    Some("<" | "|") => dtype.big_endian = false,
                    Some(">") => dtype.big_endian = dtype.size > 1,
                    Some("=") => dtype.big_endian = cfg!(target_endian = "big") && dtype.size > 1,
                    _ => return self.fail("a numpy.dtype's state has no byte order"),
                }
                self.nodes[target] = Node::DType(dtype);
                Ok(())
            }
            Node::PendingArray => {
                let items = self.seq_items(&state, "an ndarray's state")?;
                // (version, shape, dtype, is_fortran, data), the version being optional.
                let items = match items.len() {
                    5 => &items[1..],
                    4 => &items[..],
                    _ => {
                        return self.fail(
                            "an ndarray's state is not (version, shape, dtype, fortran, data)",
                        );
                    }
                };
                let shape = self.shape_of(&items[0])?;
                let dtype = self.dtype_of(&items[1])?;
                let fortran = match &items[2] {
                    Slot::Val(Value::Bool(b)) => *b,
                    other => Self::int_of(other).is_some_and(|i| i != 0),
                };
                let array = self.array(dtype, shape, fortran, &items[3].clone())?;
                self.nodes[target] = Node::Done(Value::Array(Arc::new(array)));
                Ok(())
            }
            _ => self.refuse("BUILD (an instance's state)"),
        }
    }

    fn run(&mut self) -> Result<Slot> {
        loop {
            self.at = self.pos;
            let Some(&code) = self.data.get(self.pos) else {
                return self.fail("the pickle ends without a STOP opcode: it is truncated");
            };
            self.pos += 1;
            match code {
                op::STOP => {
                    let top = self.pop()?;
                    if !self.stack.is_empty() || !self.marks.is_empty() {
                        return self.fail("STOP with items left on the stack");
                    }
                    if self.pos != self.data.len() {
                        return Err(Error::Pickle(format!(
                            "{} bytes of trailing data after the pickle's STOP at byte {} (several pickles in one file are not supported)",
                            self.data.len() - self.pos,
                            self.at
                        )));
                    }
                    return Ok(top);
                }
                op::PROTO => {
                    let proto = self.take(1)?[0];
                    if proto > 5 {
                        return self.fail(format_args!("unsupported pickle protocol {proto}"));
                    }
                }
                op::FRAME => {
                    self.take(8)?;
                }
                op::MARK => {
                    if self.marks.len() >= self.limits.max_depth {
                        return Err(Error::TooDeep {
                            max: self.limits.max_depth,
                        });
                    }
                    self.spend(std::mem::size_of::<usize>())?;
                    self.marks.push(self.stack.len());
                }
                op::POP => {
                    if self.marks.last().is_some_and(|&m| m == self.stack.len()) {
                        self.marks.pop();
                    } else {
                        self.pop()?;
                    }
                }
                op::POP_MARK => {
                    self.pop_mark()?;
                }
                op::DUP => {
                    let top = match self.stack.last() {
                        Some(slot) => slot.clone(),
                        None => return self.fail("DUP on an empty stack"),
                    };
                    self.push(top)?;
                }
                op::PUT => {
                    let line = self.line()?.to_vec();
                    let id = self.ascii_number(&line)?;
                    self.memoize(id)?;
                }
                op::BINPUT => {
                    let id = self.take(1)?[0];
                    self.memoize(id.into())?;
                }
                op::LONG_BINPUT => {
                    let raw = self.take(4)?;
                    let id = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
                    self.memoize(id.into())?;
                }
                op::MEMOIZE => {
                    let id = self.memo.len() as u64;
                    self.memoize(id)?;
                }
                op::GET => {
                    let line = self.line()?.to_vec();
                    let id = self.ascii_number(&line)?;
                    self.get(id)?;
                }
                op::BINGET => {
                    let id = self.take(1)?[0];
                    self.get(id.into())?;
                }
                op::LONG_BINGET => {
                    let raw = self.take(4)?;
                    let id = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
                    self.get(id.into())?;
                }
                op::NONE => self.push_val(Value::None)?,
                op::NEWTRUE => self.push_val(Value::Bool(true))?,
                op::NEWFALSE => self.push_val(Value::Bool(false))?,
                op::INT | op::LONG => {
                    let line = self.line()?.to_vec();
                    self.decimal_int(&line)?;
                }
                op::FLOAT => {
                    let line = self.line()?.to_vec();
                    let f = self.ascii_number::<f64>(&line)?;
                    self.push_val(Value::Float(f))?;
                }
                op::BINFLOAT => {
                    let raw = self.take(8)?;
                    let f = f64::from_be_bytes(raw.try_into().expect("8 bytes"));
                    self.push_val(Value::Float(f))?;
                }
                op::BININT => {
                    let raw = self.take(4)?;
                    let i = i32::from_le_bytes(raw.try_into().expect("4 bytes"));
                    self.push_val(Value::Int(i.into()))?;
                }
                op::BININT1 => {
                    let i = self.take(1)?[0];
                    self.push_val(Value::Int(i.into()))?;
                }
                op::BININT2 => {
                    let raw = self.take(2)?;
                    let i = u16::from_le_bytes([raw[0], raw[1]]);
                    self.push_val(Value::Int(i.into()))?;
                }
                op::LONG1 | op::LONG4 => {
                    let n = self.len_prefixed(if code == op::LONG1 { 1 } else { 4 })?;
                    if n > MAX_LONG_BYTES {
                        return self.fail(format_args!(
                            "an integer of {n} bytes exceeds the limit of {MAX_LONG_BYTES} ({MAX_INT_DIGITS} digits)"
                        ));
                    }
                    let raw = self.take(n)?;
                    let value = BigInt::from_signed_bytes_le(raw);
                    self.push_int(value)?;
                }
                op::STRING => {
                    let line = self.line()?.to_vec();
                    let text = self.string_literal(&line)?;
                    self.spend(text.len())?;
                    self.push_val(Value::Str(text.into()))?;
                }
                op::UNICODE => {
                    let line = self.line()?.to_vec();
                    let text = self.raw_unicode_escape(&line)?;
                    self.spend(text.len())?;
                    self.push_val(Value::Str(text.into()))?;
                }
                op::SHORT_BINSTRING | op::SHORT_BINUNICODE => {
                    let n = self.len_prefixed(1)?;
                    let raw = self.take(n)?.to_vec();
                    self.push_str(&raw)?;
                }
                op::BINSTRING | op::BINUNICODE => {
                    let n = self.len_prefixed(4)?;
                    let raw = self.take(n)?.to_vec();
                    self.push_str(&raw)?;
                }
                op::BINUNICODE8 => {
                    let n = self.len_prefixed(8)?;
                    let raw = self.take(n)?.to_vec();
                    self.push_str(&raw)?;
                }
                op::SHORT_BINBYTES => {
                    let n = self.len_prefixed(1)?;
                    self.push_raw(n, false)?;
                }
                op::BINBYTES => {
                    let n = self.len_prefixed(4)?;
                    self.push_raw(n, false)?;
                }
                op::BINBYTES8 | op::BYTEARRAY8 => {
                    let n = self.len_prefixed(8)?;
                    self.push_raw(n, code == op::BYTEARRAY8)?;
                }
                op::EMPTY_TUPLE => self.push_node(Node::Tuple(Vec::new()))?,
                op::EMPTY_LIST => self.push_node(Node::List(Vec::new()))?,
                op::EMPTY_DICT => self.push_node(Node::Dict {
                    kind: DictKind::Plain,
                    items: Vec::new(),
                    index: HashMap::new(),
                })?,
                op::EMPTY_SET => {
                    let slot = self.new_set(false, Vec::new())?;
                    self.push(slot)?;
                }
                op::TUPLE1 | op::TUPLE2 | op::TUPLE3 => {
                    let n = usize::from(code - op::TUPLE1) + 1;
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop()?);
                    }
                    items.reverse();
                    self.push_node(Node::Tuple(items))?;
                }
                op::TUPLE => {
                    let items = self.pop_mark()?;
                    self.push_node(Node::Tuple(items))?;
                }
                op::LIST => {
                    let items = self.pop_mark()?;
                    self.push_node(Node::List(items))?;
                }
                op::DICT => {
                    let items = self.pop_mark()?;
                    if !items.len().is_multiple_of(2) {
                        return self.fail("DICT with an odd number of items");
                    }
                    let slot = self.node(Node::Dict {
                        kind: DictKind::Plain,
                        items: Vec::new(),
                        index: HashMap::new(),
                    })?;
                    let Slot::Node(id) = slot else { unreachable!() };
                    self.set_items(id, items)?;
                    self.push(slot)?;
                }
                op::FROZENSET => {
                    let items = self.pop_mark()?;
                    let slot = self.new_set(true, items)?;
                    self.push(slot)?;
                }
                op::APPEND => {
                    let item = self.pop()?;
                    let id = self.top_id()?;
                    self.append(id, vec![item])?;
                }
                op::APPENDS => {
                    let items = self.pop_mark()?;
                    let id = self.top_id()?;
                    self.append(id, items)?;
                }
                op::SETITEM => {
                    let value = self.pop()?;
                    let key = self.pop()?;
                    let id = self.top_id()?;
                    self.set_items(id, vec![key, value])?;
                }
                op::SETITEMS => {
                    let items = self.pop_mark()?;
                    let id = self.top_id()?;
                    self.set_items(id, items)?;
                }
                op::ADDITEMS => {
                    let items = self.pop_mark()?;
                    let id = self.top_id()?;
                    self.add_to_set(id, items)?;
                }
                op::GLOBAL => {
                    let module = String::from_utf8_lossy(self.line()?).into_owned();
                    let name = String::from_utf8_lossy(self.line()?).into_owned();
                    self.global(&module, &name)?;
                }
                op::STACK_GLOBAL => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (Self::str_of(&module), Self::str_of(&name)) {
                        (Some(module), Some(name)) => {
                            let (module, name) = (module.to_string(), name.to_string());
                            self.global(&module, &name)?;
                        }
                        _ => return self.fail("STACK_GLOBAL without a module and a name"),
                    }
                }
                op::REDUCE => self.reduce()?,
                op::BUILD => self.build()?,
                op::INST => return self.refuse("INST (a class instance)"),
                op::OBJ => return self.refuse("OBJ (a class instance)"),
                op::NEWOBJ => return self.refuse("NEWOBJ (a class instance)"),
                op::NEWOBJ_EX => return self.refuse("NEWOBJ_EX (a class instance)"),
                op::PERSID | op::BINPERSID => return self.refuse("PERSID (a persistent id)"),
                op::EXT1..=op::EXT4 => return self.refuse("EXT (a registered extension)"),
                op::NEXT_BUFFER | op::READONLY_BUFFER => {
                    return self.fail("out-of-band buffers (protocol 5) are not supported");
                }
                other => {
                    return self.fail(format_args!("unknown opcode 0x{other:02x}"));
                }
            }
        }
    }

    /// The argument of `STRING`: a Python bytes literal in quotes (protocol 0 `str`).
    fn string_literal(&self, line: &[u8]) -> Result<String> {
        let inner = match line {
            [q @ (b'\'' | b'"'), inner @ .., last] if last == q => inner,
            _ => return self.fail("STRING argument is not quoted"),
        };
        let mut out = Vec::with_capacity(inner.len());
        let mut i = 0;
        while i < inner.len() {
            let b = inner[i];
            i += 1;
            if b != b'\\' {
                out.push(b);
                continue;
            }
            let Some(&e) = inner.get(i) else {
                return self.fail("STRING ends with a backslash");
            };
            i += 1;
            match e {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'\\' | b'\'' | b'"' => out.push(e),
                b'x' => {
                    let hex = inner
                        .get(i..i + 2)
                        .and_then(|h| std::str::from_utf8(h).ok());
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(v) => out.push(v),
                        None => return self.fail("bad \\x escape in STRING"),
                    }
                    i += 2;
                }
                b'0'..=b'7' => {
                    let mut v = u32::from(e - b'0');
                    for _ in 0..2 {
                        match inner.get(i) {
                            Some(&d @ b'0'..=b'7') => {
                                v = v * 8 + u32::from(d - b'0');
                                i += 1;
                            }
                            _ => break,
                        }
                    }
                    out.push(v as u8);
                }
                other => {
                    out.push(b'\\');
                    out.push(other);
                }
            }
        }
        // Python 3 decodes protocol-0 strings as ASCII by default; latin-1 keeps every byte.
        Ok(out.iter().map(|&b| char::from(b)).collect())
    }

    /// The argument of `UNICODE`: raw-unicode-escape text.
    fn raw_unicode_escape(&self, line: &[u8]) -> Result<String> {
        let mut out = String::with_capacity(line.len());
        let mut i = 0;
        while i < line.len() {
            let b = line[i];
            if b == b'\\' && matches!(line.get(i + 1), Some(b'u' | b'U')) {
                let n = if line[i + 1] == b'u' { 4 } else { 8 };
                let hex = line
                    .get(i + 2..i + 2 + n)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32);
                match hex {
                    Some(c) => out.push(c),
                    None => return self.fail("bad \\u escape in UNICODE"),
                }
                i += 2 + n;
            } else {
                out.push(char::from(b));
                i += 1;
            }
        }
        Ok(out)
    }

    /// Turns an arena slot into a [`Value`], each node once (so shared values stay shared).
    fn finish(&self, slot: &Slot, depth: usize, cache: &mut Vec<Cached>) -> Result<Value> {
        if depth > self.limits.max_depth {
            return Err(Error::TooDeep {
                max: self.limits.max_depth,
            });
        }
        let id = match slot {
            Slot::Val(value) => return Ok(value.clone()),
            Slot::Global(global) => {
                return Err(Error::Pickle(format!(
                    "the pickle holds the callable `{}` itself, which is not data",
                    global.class_name().unwrap_or("numpy reconstructor")
                )));
            }
            Slot::Node(id) => *id,
        };
        match &cache[id] {
            Cached::Done(value) => return Ok(value.clone()),
            Cached::Busy => {
                return Err(Error::Pickle(
                    "the data contains itself (a recursive structure), which has no finite form"
                        .into(),
                ));
            }
            Cached::Todo => cache[id] = Cached::Busy,
        }
        let seq = |items: &mut dyn Iterator<Item = &Slot>, cache: &mut Vec<Cached>| {
            items
                .map(|item| self.finish(item, depth + 1, cache))
                .collect::<Result<Vec<_>>>()
                .map(Arc::new)
        };
        let value = match &self.nodes[id] {
            Node::Raw {
                start,
                end,
                bytearray,
            } => {
                let bytes = Arc::new(self.data[*start..*end].to_vec());
                if *bytearray {
                    Value::ByteArray(bytes)
                } else {
                    Value::Bytes(bytes)
                }
            }
            Node::List(items) => Value::List(seq(&mut items.iter(), cache)?),
            Node::Tuple(items) => Value::Tuple(seq(&mut items.iter(), cache)?),
            Node::Deque(items, maxlen) => Value::Deque(seq(&mut items.iter(), cache)?, *maxlen),
            Node::Set { frozen, items, .. } => {
                let items = seq(&mut items.iter(), cache)?;
                if *frozen {
                    Value::FrozenSet(items)
                } else {
                    Value::Set(items)
                }
            }
            Node::Dict { kind, items, .. } => {
                let pairs = items
                    .iter()
                    .map(|(k, v)| {
                        Ok((
                            self.finish(k, depth + 1, cache)?,
                            self.finish(v, depth + 1, cache)?,
                        ))
                    })
                    .collect::<Result<Vec<_>>>()?;
                let pairs = Arc::new(pairs);
                match kind {
                    DictKind::Plain => Value::Dict(pairs),
                    DictKind::Ordered => Value::OrderedDict(pairs),
                    DictKind::Counter => Value::Counter(pairs),
                    DictKind::Default(factory) => {
                        Value::DefaultDict(factory.map(Into::into), pairs)
                    }
                }
            }
            Node::DType(_) => {
                return Err(Error::Pickle(
                    "the pickle holds a bare numpy.dtype, which is not supported as a value".into(),
                ));
            }
            Node::PendingArray => {
                return Err(Error::Pickle(
                    "a numpy array is reconstructed but never given its data (no BUILD)".into(),
                ));
            }
            Node::Done(value) => value.clone(),
        };
        cache[id] = Cached::Done(value.clone());
        Ok(value)
    }
}

/// `str(Decimal(text))`: the canonical form of a decimal string, or `None` when `text`
/// is not one (Python's `Decimal` grammar: sign, digits with an optional point, exponent;
/// `Infinity`, `Inf`, `NaN`, `sNaN` with an optional payload; surrounding whitespace and
/// underscores between digits).
pub(crate) fn canonical_decimal(text: &str) -> Option<String> {
    let text = text.trim();
    let (sign, rest) = match text.as_bytes().first()? {
        b'-' => ("-", &text[1..]),
        b'+' => ("", &text[1..]),
        _ => ("", text),
    };
    let lower = rest.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(format!("{sign}Infinity"));
    }
    for (prefix, name) in [("snan", "sNaN"), ("nan", "NaN")] {
        if let Some(payload) = lower.strip_prefix(prefix) {
            if !payload.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let payload = payload.trim_start_matches('0');
            return Some(format!("{sign}{name}{payload}"));
        }
    }
    let (mantissa, exp) = match lower.find('e') {
        Some(at) => (&lower[..at], Some(&lower[at + 1..])),
        None => (lower.as_str(), None),
    };
    let exp: i64 = match exp {
        Some(e) => {
            let digits = e.trim_start_matches(['+', '-']);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 18
            {
                return None;
            }
            e.parse().ok()?
        }
        None => 0,
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    let valid = |s: &str| {
        !s.starts_with('_')
            && !s.ends_with('_')
            && !s.contains("__")
            && s.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    };
    if (int_part.is_empty() && frac_part.is_empty()) || !valid(int_part) || !valid(frac_part) {
        return None;
    }
    let digits: String = int_part
        .chars()
        .chain(frac_part.chars())
        .filter(|c| *c != '_')
        .collect();
    let exp = exp.checked_sub(frac_part.chars().filter(|c| *c != '_').count() as i64)?;
    let coeff = digits.trim_start_matches('0');
    let coeff = if coeff.is_empty() { "0" } else { coeff };
    // The General Decimal Arithmetic `to-sci-string`.
    let adjusted = exp + coeff.len() as i64 - 1;
    let body = if exp <= 0 && adjusted >= -6 {
        if exp == 0 {
            coeff.to_string()
        } else {
            let point = coeff.len() as i64 + exp;
            if point > 0 {
                format!("{}.{}", &coeff[..point as usize], &coeff[point as usize..])
            } else {
                format!("0.{}{}", "0".repeat((-point) as usize), coeff)
            }
        }
    } else {
        let (first, rest) = coeff.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        if adjusted == 0 {
            mantissa
        } else {
            format!(
                "{mantissa}E{}{adjusted}",
                if adjusted > 0 { "+" } else { "" }
            )
        }
    };
    Some(format!("{sign}{body}"))
}

#[cfg(test)]
mod tests {
    use super::canonical_decimal;

    #[test]
    fn decimals_print_as_python_does() {
        for (text, canon) in [
            ("1.10", "1.10"),
            ("1e3", "1E+3"),
            ("-0", "-0"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1E-7"),
            ("123.456e-10", "1.23456E-8"),
            ("  7 ", "7"),
            ("1_000", "1000"),
            ("nan", "NaN"),
            ("-Inf", "-Infinity"),
            ("sNaN12", "sNaN12"),
            ("100E-2", "1.00"),
            ("0E+5", "0E+5"),
            ("-.5", "-0.5"),
        ] {
            assert_eq!(canonical_decimal(text).as_deref(), Some(canon), "{text}");
        }
        for bad in ["", "1.2.3", "e5", "1e", "abc", "1__0", "_1"] {
            assert_eq!(canonical_decimal(bad), None, "{bad}");
        }
    }
}
