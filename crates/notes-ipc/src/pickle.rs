//! Python pickles: a bounded, code-free reader (protocols 0 to 5) and a writer (protocol 3),
//! on top of `serde-pickle`, plus Python-like and JSON renderings of what was read.
//!
//! Before `serde-pickle` sees a byte, a scanner walks the opcodes once, the way
//! `pickletools.dis` would, and refuses what is unsafe or unbounded: globals other than the
//! few builtins that plain data needs (`set`, `frozenset`, `bytearray`, `list`, `int`,
//! `_codecs.encode`, and `bytes` called with no arguments: how protocols 0 to 2 write `b''`),
//! class instances (`INST`, `OBJ`, `NEWOBJ`, `BUILD`), persistent ids and
//! extension codes, nesting deeper than [`Limits::max_depth`], shared references that would
//! expand past the size limits, integers longer than Python's own 4300-digit limit, and
//! truncated or trailing data.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
pub use serde_pickle::{HashableValue, Value};

use crate::{Error, Limits, Result};

/// The longest decimal integer accepted, in digits: Python's own default
/// (`sys.get_int_max_str_digits()`), which also keeps big-integer parsing linear-ish.
pub const MAX_INT_DIGITS: usize = 4300;

/// The longest binary integer (`LONG4`) accepted, in bytes: 4300 decimal digits.
const MAX_LONG_BYTES: usize = 1786;

/// Reads one pickle from `bytes` into a [`Value`], after checking it with the rules above.
#[tracing::instrument(level = "debug", skip_all)]
pub fn from_slice(bytes: &[u8], limits: &Limits) -> Result<Value> {
    let bytes = checked(bytes, limits)?;
    serde_pickle::value_from_slice(&bytes, serde_pickle::DeOptions::new())
        .map_err(|err| Error::Pickle(err.to_string()))
}

/// Reads one pickle from `bytes` into any deserializable `T` (a `Vec<i64>`, a struct, ...).
pub fn from_slice_as<T: DeserializeOwned>(bytes: &[u8], limits: &Limits) -> Result<T> {
    let bytes = checked(bytes, limits)?;
    serde_pickle::from_slice(&bytes, serde_pickle::DeOptions::new())
        .map_err(|err| Error::Pickle(err.to_string()))
}

/// Writes `value` as a protocol-3 pickle that Python's `pickle.loads` reads.
///
/// Structs become dicts keyed by field name, tuples become tuples, `Vec`s lists,
/// `Option::None` becomes `None` and byte buffers (`serde_bytes`) become `bytes`.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    serde_pickle::to_vec(&value, serde_pickle::SerOptions::new())
        .map_err(|err| Error::Encode(err.to_string()))
}

/// Writes a [`Value`] (as read by [`from_slice`] or built by [`from_json`]) as a pickle.
pub fn value_to_vec(value: &Value) -> Result<Vec<u8>> {
    serde_pickle::value_to_vec(value, serde_pickle::SerOptions::new())
        .map_err(|err| Error::Encode(err.to_string()))
}

/// Reads the pickle file at `path` (at most `limits.max_len` bytes) into a [`Value`].
#[tracing::instrument(level = "debug", skip_all)]
pub fn load(path: &Path, limits: &Limits) -> Result<Value> {
    let bytes = crate::store::read_bounded(path, limits.max_len)?;
    from_slice(&bytes, limits).map_err(|err| err.in_file(path))
}

/// Reads the pickle file at `path` into a `T`.
pub fn load_as<T: DeserializeOwned>(path: &Path, limits: &Limits) -> Result<T> {
    let bytes = crate::store::read_bounded(path, limits.max_len)?;
    from_slice_as(&bytes, limits).map_err(|err| err.in_file(path))
}

/// Pickles `value` into the file at `path`, atomically (temporary file, fsync, rename):
/// the Rust side of `pickle.dump(x, f)`.
#[tracing::instrument(level = "debug", skip_all)]
pub fn save<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    crate::store::write_atomic(path, &to_vec(value)?)
}

/// Writes a [`Value`] as a pickle file at `path`, atomically.
pub fn save_value(path: &Path, value: &Value) -> Result<()> {
    crate::store::write_atomic(path, &value_to_vec(value)?)
}

// ---------------------------------------------------------------------------------------
// The scanner.

/// What the scanner knows of one value on the pickle stack.
#[derive(Clone, Debug, Default)]
struct Meta {
    /// Levels of nesting below this value (0 for a scalar).
    depth: usize,
    /// Values in this one, itself included, with shared references expanded.
    nodes: u64,
    /// String and byte payload, with shared references expanded.
    bytes: u64,
    /// For short strings: the text (to check the names `STACK_GLOBAL` pops).
    text: Option<Box<str>>,
    /// For an allowed global: its name.
    global: Option<&'static str>,
    /// Whether this is an empty tuple (the arguments of a call with none).
    empty_tuple: bool,
}

#[derive(Clone, Debug)]
enum Slot {
    Val(Meta),
    /// A reference to an entry of the memo (by index into `Scan::entries`).
    Ref(usize),
}

struct Entry {
    meta: Meta,
    /// Whether a `GET` (or `DUP`) has handed out a reference: the value may no longer change.
    shared: bool,
}

struct Scan<'a> {
    data: &'a [u8],
    pos: usize,
    /// Offset of the opcode being run, for error messages.
    at: usize,
    stack: Vec<Slot>,
    marks: Vec<usize>,
    memo: HashMap<u64, usize>,
    entries: Vec<Entry>,
    limits: &'a Limits,
    /// Offsets of the `REDUCE`s that call `bytes()` or `bytearray()` with no arguments.
    empty_calls: Vec<usize>,
}

const ALLOWED_GLOBALS: &[(&str, &str, &str)] = &[
    ("builtins", "set", "set"),
    ("__builtin__", "set", "set"),
    ("builtins", "frozenset", "frozenset"),
    ("__builtin__", "frozenset", "frozenset"),
    ("builtins", "bytearray", "bytearray"),
    ("__builtin__", "bytearray", "bytearray"),
    ("builtins", "list", "list"),
    ("__builtin__", "list", "list"),
    ("builtins", "int", "int"),
    ("__builtin__", "int", "int"),
    ("_codecs", "encode", "encode"),
    // Only ever called with no arguments (see `REDUCE` in `Scan::run`).
    ("builtins", "bytes", "bytes"),
    ("__builtin__", "bytes", "bytes"),
];

/// What `REDUCE` is rewritten to where it calls `bytes()` or `bytearray()` with no arguments:
/// `POP`, `POP` (the empty tuple and the callable), `SHORT_BINBYTES` of length 0.
const EMPTY_BYTES: &[u8] = b"00C\x00";

/// Checks `data` with [`scan`] and returns what `serde-pickle` can decode.
///
/// `serde-pickle` does not know `bytes` and wants an argument for `bytearray`, so
/// `bytes()` and `bytearray()` (how Python writes empty ones: `b''` in protocols 0 to 2,
/// `bytearray(b'')` in 0 to 4) are rewritten to an empty `bytes` literal. Every other
/// pickle is returned as it is. Pickle opcodes hold no absolute offsets (`FRAME` lengths
/// are hints that `serde-pickle` skips), so the rewrite moves nothing else; only the byte
/// offsets in `serde-pickle`'s own errors shift by 3 per rewrite.
fn checked<'a>(data: &'a [u8], limits: &Limits) -> Result<Cow<'a, [u8]>> {
    let empty_calls = scan(data, limits)?;
    if empty_calls.is_empty() {
        return Ok(Cow::Borrowed(data));
    }
    let mut out = Vec::with_capacity(data.len() + empty_calls.len() * (EMPTY_BYTES.len() - 1));
    let mut from = 0;
    for at in empty_calls {
        out.extend_from_slice(&data[from..at]);
        out.extend_from_slice(EMPTY_BYTES);
        from = at + 1;
    }
    out.extend_from_slice(&data[from..]);
    Ok(Cow::Owned(out))
}

/// Checks that `data` is exactly one safe, bounded pickle (see the module docs), and
/// returns the offsets of the `REDUCE`s that call `bytes()` or `bytearray()` with no
/// arguments, in increasing order.
pub(crate) fn scan(data: &[u8], limits: &Limits) -> Result<Vec<usize>> {
    if data.len() > limits.max_len {
        return Err(Error::FrameTooLarge {
            len: data.len() as u64,
            max: limits.max_len,
        });
    }
    if data.is_empty() {
        return Err(Error::Pickle("empty input".into()));
    }
    let mut scan = Scan {
        data,
        pos: 0,
        at: 0,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        entries: Vec::new(),
        limits,
        empty_calls: Vec::new(),
    };
    scan.run()?;
    Ok(scan.empty_calls)
}

impl Scan<'_> {
    fn fail<T>(&self, what: impl std::fmt::Display) -> Result<T> {
        Err(Error::Pickle(format!(
            "{what} (opcode at byte {})",
            self.at
        )))
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
        if width == 4 && len > i32::MAX as u64 && self.data[self.at] == b'T' {
            return self.fail("BINSTRING with a negative length");
        }
        if len > (self.data.len() - self.pos) as u64 {
            return self.fail(format_args!(
                "a string of {len} bytes runs past the end of the pickle ({} bytes left)",
                self.data.len() - self.pos
            ));
        }
        // The check above bounds `len` by the input length, so it fits in usize.
        Ok(len as usize)
    }

    fn push_scalar(&mut self, bytes: u64) {
        self.stack.push(Slot::Val(Meta {
            depth: 0,
            nodes: 1,
            bytes,
            ..Meta::default()
        }));
    }

    fn push_text(&mut self, raw: &[u8]) {
        let text = (raw.len() <= 64)
            .then(|| std::str::from_utf8(raw).ok().map(Into::into))
            .flatten();
        self.stack.push(Slot::Val(Meta {
            depth: 0,
            nodes: 1,
            bytes: raw.len() as u64,
            text,
            global: None,
            empty_tuple: false,
        }));
    }

    fn resolve(&mut self, slot: Slot) -> Meta {
        match slot {
            Slot::Val(meta) => meta,
            Slot::Ref(index) => self.entries[index].meta.clone(),
        }
    }

    fn pop(&mut self) -> Result<Meta> {
        if self.marks.last().is_some_and(|&m| m >= self.stack.len()) {
            return self.fail("stack underflow (an item was expected after the MARK)");
        }
        match self.stack.pop() {
            Some(slot) => Ok(self.resolve(slot)),
            None => self.fail("stack underflow"),
        }
    }

    fn pop_mark(&mut self) -> Result<Vec<Meta>> {
        let Some(mark) = self.marks.pop() else {
            return self.fail("no MARK to pop to");
        };
        let slots: Vec<Slot> = self.stack.drain(mark..).collect();
        Ok(slots.into_iter().map(|s| self.resolve(s)).collect())
    }

    /// Adds `children` to one container's totals and checks the limits.
    fn grow(&self, mut meta: Meta, children: &[Meta]) -> Result<Meta> {
        for child in children {
            meta.depth = meta.depth.max(child.depth + 1);
            meta.nodes = meta.nodes.saturating_add(child.nodes);
            meta.bytes = meta.bytes.saturating_add(child.bytes);
        }
        meta.text = None;
        meta.global = None;
        meta.empty_tuple = false;
        self.check(&meta)?;
        Ok(meta)
    }

    fn check(&self, meta: &Meta) -> Result<()> {
        if meta.depth > self.limits.max_depth {
            return Err(Error::TooDeep {
                max: self.limits.max_depth,
            });
        }
        let max_nodes = self.limits.max_len as u64;
        if meta.nodes > max_nodes {
            return self.fail(format_args!(
                "the data expands to more than {max_nodes} values (shared references included)"
            ));
        }
        let max_bytes = (self.limits.max_len as u64).saturating_mul(4);
        if meta.bytes > max_bytes {
            return self.fail(format_args!(
                "the data expands to more than {max_bytes} bytes of strings (shared references included)"
            ));
        }
        Ok(())
    }

    fn container(&mut self, children: &[Meta]) -> Result<()> {
        let base = Meta {
            nodes: 1,
            ..Meta::default()
        };
        let meta = self.grow(base, children)?;
        self.stack.push(Slot::Val(meta));
        Ok(())
    }

    fn empty_tuple(&mut self) -> Result<()> {
        self.container(&[])?;
        if let Some(Slot::Val(meta)) = self.stack.last_mut() {
            meta.empty_tuple = true;
        }
        Ok(())
    }

    /// `APPEND`, `SETITEM`, `ADDITEMS`, ...: adds `children` to the value on top of the stack.
    fn extend_top(&mut self, children: &[Meta]) -> Result<()> {
        if self.marks.last().is_some_and(|&m| m >= self.stack.len()) {
            return self.fail("stack underflow (no container below the MARK)");
        }
        match self.stack.last().cloned() {
            None => self.fail("stack underflow (no container to add to)"),
            Some(Slot::Val(meta)) => {
                let meta = self.grow(meta, children)?;
                *self.stack.last_mut().expect("checked above") = Slot::Val(meta);
                Ok(())
            }
            Some(Slot::Ref(index)) => {
                if self.entries[index].shared {
                    // Python's pickler only does this for a value that contains itself.
                    return self.fail(
                        "a shared value is modified after being referenced (a recursive structure?)",
                    );
                }
                let meta = self.grow(self.entries[index].meta.clone(), children)?;
                self.entries[index].meta = meta;
                Ok(())
            }
        }
    }

    fn memoize(&mut self, id: u64) -> Result<()> {
        let slot = match self.stack.pop() {
            Some(slot) => slot,
            None => return self.fail("nothing on the stack to memoize"),
        };
        let (meta, shared) = match slot {
            Slot::Val(meta) => (meta, false),
            Slot::Ref(index) => {
                self.entries[index].shared = true;
                (self.entries[index].meta.clone(), true)
            }
        };
        let index = self.entries.len();
        self.entries.push(Entry { meta, shared });
        self.memo.insert(id, index);
        self.stack.push(Slot::Ref(index));
        Ok(())
    }

    fn get(&mut self, id: u64) -> Result<()> {
        match self.memo.get(&id) {
            Some(&index) => {
                self.entries[index].shared = true;
                self.stack.push(Slot::Ref(index));
                Ok(())
            }
            None => self.fail(format_args!("memo entry {id} is used before it is defined")),
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

    fn global(&mut self, module: &str, name: &str) -> Result<()> {
        match ALLOWED_GLOBALS
            .iter()
            .find(|(m, n, _)| *m == module && *n == name)
        {
            Some(&(_, _, short)) => {
                self.stack.push(Slot::Val(Meta {
                    nodes: 1,
                    global: Some(short),
                    ..Meta::default()
                }));
                Ok(())
            }
            None => Err(Error::PickleGlobal {
                name: format!("{module}.{name}"),
                offset: self.at,
            }),
        }
    }

    fn refuse(&self, opcode: &str) -> Result<()> {
        Err(Error::PickleGlobal {
            name: opcode.to_string(),
            offset: self.at,
        })
    }

    fn reduce(&mut self) -> Result<()> {
        let args = self.pop()?;
        let callable = self.pop()?;
        match callable.global {
            None => return self.fail("REDUCE on something that is not an allowed builtin"),
            Some("bytes" | "bytearray") if args.empty_tuple => {
                self.empty_calls.push(self.at);
                self.push_scalar(0);
                return Ok(());
            }
            // Python writes non-empty `bytes` with `_codecs.encode`, never with `bytes(...)`,
            // whose arguments could be anything (`bytes(10**9)` allocates a gigabyte).
            Some("bytes") => {
                return self.fail("`bytes` called with arguments (Python pickles only `bytes()`)");
            }
            Some(_) => {}
        }
        let meta = self.grow(
            Meta {
                nodes: 1,
                ..Meta::default()
            },
            &[args],
        )?;
        // The builtin returns its argument's content, one level less deep.
        let meta = Meta {
            depth: meta.depth.saturating_sub(1),
            ..meta
        };
        self.stack.push(Slot::Val(meta));
        Ok(())
    }

    fn run(&mut self) -> Result<()> {
        loop {
            self.at = self.pos;
            let Some(&op) = self.data.get(self.pos) else {
                return self.fail("the pickle ends without a STOP opcode: it is truncated");
            };
            self.pos += 1;
            match op {
                b'.' => {
                    // STOP
                    let top = self.pop()?;
                    self.check(&top)?;
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
                    return Ok(());
                }
                0x80 => {
                    // PROTO
                    let proto = self.take(1)?[0];
                    if proto > 5 {
                        return self.fail(format_args!("unsupported pickle protocol {proto}"));
                    }
                }
                0x95 => {
                    // FRAME
                    self.take(8)?;
                }
                b'(' => {
                    if self.marks.len() >= self.limits.max_depth {
                        return Err(Error::TooDeep {
                            max: self.limits.max_depth,
                        });
                    }
                    self.marks.push(self.stack.len());
                }
                b'0' => {
                    // POP: an item, or a MARK when the stack is at the mark.
                    if self.marks.last().is_some_and(|&m| m == self.stack.len()) {
                        self.marks.pop();
                    } else {
                        self.pop()?;
                    }
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    // DUP: both copies must stay equal, so a reference becomes shared.
                    let top = match self.stack.last() {
                        Some(slot) => slot.clone(),
                        None => return self.fail("DUP on an empty stack"),
                    };
                    if let Slot::Ref(index) = top {
                        self.entries[index].shared = true;
                    }
                    self.stack.push(top);
                }
                b'p' => {
                    let line = self.line()?.to_vec();
                    let id = self.ascii_number(&line)?;
                    self.memoize(id)?;
                }
                b'q' => {
                    let id = self.take(1)?[0];
                    self.memoize(id.into())?;
                }
                b'r' => {
                    let raw = self.take(4)?;
                    let id = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
                    self.memoize(id.into())?;
                }
                0x94 => {
                    let id = self.memo.len() as u64;
                    self.memoize(id)?;
                }
                b'g' => {
                    let line = self.line()?.to_vec();
                    let id = self.ascii_number(&line)?;
                    self.get(id)?;
                }
                b'h' => {
                    let id = self.take(1)?[0];
                    self.get(id.into())?;
                }
                b'j' => {
                    let raw = self.take(4)?;
                    let id = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
                    self.get(id.into())?;
                }
                b'N' | 0x88 | 0x89 => self.push_scalar(0),
                b'I' | b'L' => {
                    let line = self.line()?;
                    let digits = line.iter().filter(|b| b.is_ascii_digit()).count();
                    if digits > MAX_INT_DIGITS {
                        return self.fail(format_args!(
                            "an integer of {digits} digits exceeds the limit of {MAX_INT_DIGITS}"
                        ));
                    }
                    self.push_scalar(0);
                }
                b'F' => {
                    self.line()?;
                    self.push_scalar(0);
                }
                b'G' => {
                    self.take(8)?;
                    self.push_scalar(0);
                }
                b'J' => {
                    self.take(4)?;
                    self.push_scalar(0);
                }
                b'K' => {
                    self.take(1)?;
                    self.push_scalar(0);
                }
                b'M' => {
                    self.take(2)?;
                    self.push_scalar(0);
                }
                0x8a => {
                    let n = self.len_prefixed(1)?;
                    self.take(n)?;
                    self.push_scalar(0);
                }
                0x8b => {
                    let n = self.len_prefixed(4)?;
                    if n > MAX_LONG_BYTES {
                        return self.fail(format_args!(
                            "an integer of {n} bytes exceeds the limit of {MAX_LONG_BYTES} ({MAX_INT_DIGITS} digits)"
                        ));
                    }
                    self.take(n)?;
                    self.push_scalar(0);
                }
                b'S' | b'V' => {
                    let line = self.line()?.to_vec();
                    self.push_text(&line);
                }
                b'U' | b'C' | 0x8c => {
                    let n = self.len_prefixed(1)?;
                    let raw = self.take(n)?.to_vec();
                    self.push_text(&raw);
                }
                b'T' | b'X' | b'B' => {
                    let n = self.len_prefixed(4)?;
                    let raw = self.take(n)?.to_vec();
                    self.push_text(&raw);
                }
                0x8d | 0x8e | 0x96 => {
                    let n = self.len_prefixed(8)?;
                    let raw = self.take(n)?.to_vec();
                    self.push_text(&raw);
                }
                b')' => self.empty_tuple()?,
                b']' | b'}' | 0x8f => self.container(&[])?,
                0x85 => {
                    let a = self.pop()?;
                    self.container(&[a])?;
                }
                0x86 => {
                    let b = self.pop()?;
                    let a = self.pop()?;
                    self.container(&[a, b])?;
                }
                0x87 => {
                    let c = self.pop()?;
                    let b = self.pop()?;
                    let a = self.pop()?;
                    self.container(&[a, b, c])?;
                }
                b't' | b'l' | b'd' | 0x91 => {
                    let items = self.pop_mark()?;
                    if op == b'd' && !items.len().is_multiple_of(2) {
                        return self.fail("DICT with an odd number of items");
                    }
                    if op == b't' && items.is_empty() {
                        self.empty_tuple()?;
                    } else {
                        self.container(&items)?;
                    }
                }
                b'a' => {
                    let item = self.pop()?;
                    self.extend_top(&[item])?;
                }
                b's' => {
                    let value = self.pop()?;
                    let key = self.pop()?;
                    self.extend_top(&[key, value])?;
                }
                b'e' | b'u' | 0x90 => {
                    let items = self.pop_mark()?;
                    if op == b'u' && !items.len().is_multiple_of(2) {
                        return self.fail("SETITEMS with an odd number of items");
                    }
                    self.extend_top(&items)?;
                }
                b'c' => {
                    let module = String::from_utf8_lossy(self.line()?).into_owned();
                    let name = String::from_utf8_lossy(self.line()?).into_owned();
                    self.global(&module, &name)?;
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (module.text, name.text) {
                        (Some(module), Some(name)) => self.global(&module, &name)?,
                        _ => return self.fail("STACK_GLOBAL without a module and a name"),
                    }
                }
                b'R' => self.reduce()?,
                b'i' => return self.refuse("INST (a class instance)"),
                b'o' => return self.refuse("OBJ (a class instance)"),
                0x81 => return self.refuse("NEWOBJ (a class instance)"),
                0x92 => return self.refuse("NEWOBJ_EX (a class instance)"),
                b'b' => return self.refuse("BUILD (an instance's state)"),
                b'P' | b'Q' => return self.refuse("PERSID (a persistent id)"),
                0x82..=0x84 => return self.refuse("EXT (a registered extension)"),
                0x97 | 0x98 => {
                    return self.fail("out-of-band buffers (protocol 5) are not supported");
                }
                other => {
                    return self.fail(format_args!("unknown opcode 0x{other:02x}"));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Renderings.

/// Formats `value` the way Python's `repr` would (dict keys and set items sorted, since
/// the reader keeps them in B-trees).
pub fn repr(value: &Value) -> String {
    let mut out = String::new();
    repr_into(&mut out, value);
    out
}

fn repr_into(out: &mut String, value: &Value) {
    match value {
        Value::None => out.push_str("None"),
        Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
        Value::I64(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::F64(f) => out.push_str(&float_repr(*f)),
        Value::Bytes(b) => out.push_str(&bytes_repr(b)),
        Value::String(s) => out.push_str(&str_repr(s)),
        Value::List(items) => seq(out, "[", items.iter(), "]", repr_into),
        Value::Tuple(items) if items.len() == 1 => {
            out.push('(');
            repr_into(out, &items[0]);
            out.push_str(",)");
        }
        Value::Tuple(items) => seq(out, "(", items.iter(), ")", repr_into),
        Value::Set(items) if items.is_empty() => out.push_str("set()"),
        Value::Set(items) => seq(out, "{", items.iter(), "}", hashable_into),
        Value::FrozenSet(items) if items.is_empty() => out.push_str("frozenset()"),
        Value::FrozenSet(items) => seq(out, "frozenset({", items.iter(), "})", hashable_into),
        Value::Dict(map) => seq(out, "{", map.iter(), "}", |out, (k, v)| {
            hashable_into(out, k);
            out.push_str(": ");
            repr_into(out, v);
        }),
    }
}

fn seq<I: Iterator>(
    out: &mut String,
    open: &str,
    items: I,
    close: &str,
    mut f: impl FnMut(&mut String, I::Item),
) {
    out.push_str(open);
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        f(out, item);
    }
    out.push_str(close);
}

fn hashable_into(out: &mut String, value: &HashableValue) {
    repr_into(out, &value.clone().into_value());
}

/// Python's `repr` of a float: the shortest round-trip digits, in exponent form when the
/// exponent is below -4 or at least 16.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let plain = format!("{f}");
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    }
}

fn quote_for(has_single: bool, has_double: bool) -> char {
    if has_single && !has_double { '"' } else { '\'' }
}

/// Python's `repr` of a `str`.
pub fn str_repr(s: &str) -> String {
    let q = quote_for(s.contains('\''), s.contains('"'));
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f || (0x80..0xa0).contains(&(c as u32)) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// Python's `repr` of a `bytes` object, such as `b'Hello, world'`.
pub fn bytes_repr(bytes: &[u8]) -> String {
    let q = quote_for(bytes.contains(&b'\''), bytes.contains(&b'"'));
    let mut out = String::with_capacity(bytes.len() + 3);
    out.push('b');
    out.push(q);
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b if b as char == q => {
                out.push('\\');
                out.push(q);
            }
            0x20..=0x7e => out.push(b as char),
            b => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push(q);
    out
}

/// A [`Value`] as JSON, for `serde_json` and friends. The mapping:
///
/// | Python | JSON |
/// | --- | --- |
/// | `None`, `bool`, `str` | `null`, `true`/`false`, string |
/// | `int` | number, exact at any size (big integers are written digit for digit) |
/// | `float` | number; `inf`, `-inf` and `nan` (not JSON numbers) as the strings `"inf"`, `"-inf"`, `"nan"` |
/// | `bytes`, `bytearray` | `{"$bytes": "<lowercase hex>"}` |
/// | `list`, `tuple`, `set`, `frozenset` | array |
/// | `dict` | object; keys that are not strings are written as their Python `repr` |
#[derive(Debug, Clone, Copy)]
pub struct Json<'a>(pub &'a Value);

/// The key of the object that stands for `bytes` in [`Json`] and [`from_json`].
pub const BYTES_KEY: &str = "$bytes";

impl Serialize for Json<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeMap, SerializeSeq};
        match self.0 {
            Value::None => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::I64(i) => s.serialize_i64(*i),
            Value::Int(i) => {
                let raw = serde_json::value::RawValue::from_string(i.to_string())
                    .map_err(S::Error::custom)?;
                raw.serialize(s)
            }
            Value::F64(f) if f.is_finite() => s.serialize_f64(*f),
            Value::F64(f) => s.serialize_str(&float_repr(*f)),
            Value::Bytes(b) => {
                let mut map = s.serialize_map(Some(1))?;
                let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
                map.serialize_entry(BYTES_KEY, &hex)?;
                map.end()
            }
            Value::String(text) => s.serialize_str(text),
            Value::List(items) | Value::Tuple(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Json(item))?;
                }
                seq.end()
            }
            Value::Set(items) | Value::FrozenSet(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Json(&item.clone().into_value()))?;
                }
                seq.end()
            }
            Value::Dict(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    let key = match key {
                        HashableValue::String(text) => text.clone(),
                        other => repr(&other.clone().into_value()),
                    };
                    map.serialize_entry(&key, &Json(value))?;
                }
                map.end()
            }
        }
    }
}

/// Builds a [`Value`] from JSON, the inverse of [`Json`] where it can be: objects become
/// dicts with string keys, arrays lists, `{"$bytes": "<hex>"}` bytes; integers outside the
/// 64-bit range arrive from `serde_json` as floats.
pub fn from_json(json: &serde_json::Value) -> Result<Value> {
    Ok(match json {
        serde_json::Value::Null => Value::None,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::I64(i)
            } else if let Some(u) = n.as_u64() {
                Value::Int(u.into())
            } else {
                Value::F64(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(text) => Value::String(text.clone()),
        serde_json::Value::Array(items) => {
            Value::List(items.iter().map(from_json).collect::<Result<_>>()?)
        }
        serde_json::Value::Object(map) => {
            if let (1, Some(serde_json::Value::String(hex))) = (map.len(), map.get(BYTES_KEY)) {
                return Ok(Value::Bytes(from_hex(hex)?));
            }
            let mut dict = std::collections::BTreeMap::new();
            for (key, value) in map {
                dict.insert(HashableValue::String(key.clone()), from_json(value)?);
            }
            Value::Dict(dict)
        }
    })
}

fn from_hex(hex: &str) -> Result<Vec<u8>> {
    let bad = || {
        Error::Encode(format!(
            "{BYTES_KEY} must be an even number of hex digits, found {hex:?}"
        ))
    };
    if !hex.len().is_multiple_of(2) {
        return Err(bad());
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(bytes: &[u8]) -> Result<Value> {
        from_slice(bytes, &Limits::default())
    }

    #[test]
    fn reads_the_notes_list_in_every_protocol() {
        // pickle.dumps([1, 2, 3, 5], protocol=p) for p = 0, 2, 4.
        let cases: [&[u8]; 3] = [
            b"(lp0\nI1\naI2\naI3\naI5\na.",
            b"\x80\x02]q\x00(K\x01K\x02K\x03K\x05e.",
            b"\x80\x04\x95\r\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01K\x02K\x03K\x05e.",
        ];
        for bytes in cases {
            assert_eq!(repr(&load(bytes).unwrap()), "[1, 2, 3, 5]");
        }
    }

    #[test]
    fn refuses_code() {
        // pickle.dumps(os.system) style payloads, protocols 0 and 4.
        let err = load(b"cos\nsystem\n(S'echo hi'\ntR.").unwrap_err();
        assert!(err.to_string().contains("`os.system`"), "{err}");
        let err = load(b"\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x02hi\x85R.").unwrap_err();
        assert!(err.to_string().contains("`os.system`"), "{err}");
        let err = load(b"(i__main__\nC\n(dS'x'\nI1\nsb.").unwrap_err();
        assert!(err.to_string().contains("INST"), "{err}");
    }

    /// Checks that each pickle (Python 3.11's `pickle.dumps(value, protocol=p)` for
    /// p = 0..=5) reads back as `expected`.
    fn check(cases: [&[u8]; 6], expected: &str) {
        for (protocol, bytes) in cases.iter().enumerate() {
            match load(bytes) {
                Ok(value) => assert_eq!(repr(&value), expected, "protocol {protocol}"),
                Err(err) => panic!("protocol {protocol}: {err}"),
            }
        }
    }

    #[test]
    fn reads_empty_bytes_and_bytearrays_in_every_protocol() {
        // b'': protocols 0 to 2 call `bytes()`, 3 to 5 write a bytes literal.
        check(
            [
                b"c__builtin__\nbytes\np0\n(tRp1\n.",
                b"c__builtin__\nbytes\nq\x00)Rq\x01.",
                b"\x80\x02c__builtin__\nbytes\nq\x00)Rq\x01.",
                b"\x80\x03C\x00q\x00.",
                b"\x80\x04\x95\x04\x00\x00\x00\x00\x00\x00\x00C\x00\x94.",
                b"\x80\x05\x95\x04\x00\x00\x00\x00\x00\x00\x00C\x00\x94.",
            ],
            "b''",
        );
        // bytearray(b''): `bytearray()` up to protocol 4, BYTEARRAY8 in 5.
        check(
            [
                b"c__builtin__\nbytearray\np0\n(tRp1\n.",
                b"c__builtin__\nbytearray\nq\x00)Rq\x01.",
                b"\x80\x02c__builtin__\nbytearray\nq\x00)Rq\x01.",
                b"\x80\x03cbuiltins\nbytearray\nq\x00)Rq\x01.",
                b"\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x94\x8c\x09bytearray\x94\x93\x94)R\x94.",
                b"\x80\x05\x95\x0b\x00\x00\x00\x00\x00\x00\x00\x96\x00\x00\x00\x00\x00\x00\x00\x00\x94.",
            ],
            "b''",
        );
        check(
            [
                b"c__builtin__\nbytearray\np0\n(c_codecs\nencode\np1\n(Vab\np2\nVlatin1\np3\ntp4\nRp5\ntp6\nRp7\n.",
                b"c__builtin__\nbytearray\nq\x00(c_codecs\nencode\nq\x01(X\x02\x00\x00\x00abq\x02X\x06\x00\x00\x00latin1q\x03tq\x04Rq\x05tq\x06Rq\x07.",
                b"\x80\x02c__builtin__\nbytearray\nq\x00c_codecs\nencode\nq\x01X\x02\x00\x00\x00abq\x02X\x06\x00\x00\x00latin1q\x03\x86q\x04Rq\x05\x85q\x06Rq\x07.",
                b"\x80\x03cbuiltins\nbytearray\nq\x00C\x02abq\x01\x85q\x02Rq\x03.",
                b"\x80\x04\x95#\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x94\x8c\x09bytearray\x94\x93\x94C\x02ab\x94\x85\x94R\x94.",
                b"\x80\x05\x95\x0d\x00\x00\x00\x00\x00\x00\x00\x96\x02\x00\x00\x00\x00\x00\x00\x00ab\x94.",
            ],
            "b'ab'",
        );
        // [b'', bytearray(), bytearray()]: the second `bytearray` comes from the memo.
        check(
            [
                b"(lp0\nc__builtin__\nbytes\np1\n(tRp2\nac__builtin__\nbytearray\np3\n(tRp4\nag3\n(tRp5\na.",
                b"]q\x00(c__builtin__\nbytes\nq\x01)Rq\x02c__builtin__\nbytearray\nq\x03)Rq\x04h\x03)Rq\x05e.",
                b"\x80\x02]q\x00(c__builtin__\nbytes\nq\x01)Rq\x02c__builtin__\nbytearray\nq\x03)Rq\x04h\x03)Rq\x05e.",
                b"\x80\x03]q\x00(C\x00q\x01cbuiltins\nbytearray\nq\x02)Rq\x03h\x02)Rq\x04e.",
                b"\x80\x04\x95)\x00\x00\x00\x00\x00\x00\x00]\x94(C\x00\x94\x8c\x08builtins\x94\x8c\x09bytearray\x94\x93\x94)R\x94h\x04)R\x94e.",
                b"\x80\x05\x95\x1c\x00\x00\x00\x00\x00\x00\x00]\x94(C\x00\x94\x96\x00\x00\x00\x00\x00\x00\x00\x00\x94\x96\x00\x00\x00\x00\x00\x00\x00\x00\x94e.",
            ],
            "[b'', b'', b'']",
        );
    }

    #[test]
    fn reads_empty_sets_in_every_protocol() {
        check(
            [
                b"c__builtin__\nset\np0\n((lp1\ntp2\nRp3\n.",
                b"c__builtin__\nset\nq\x00(]q\x01tq\x02Rq\x03.",
                b"\x80\x02c__builtin__\nset\nq\x00]q\x01\x85q\x02Rq\x03.",
                b"\x80\x03cbuiltins\nset\nq\x00]q\x01\x85q\x02Rq\x03.",
                b"\x80\x04\x8f\x94.",
                b"\x80\x05\x8f\x94.",
            ],
            "set()",
        );
        check(
            [
                b"c__builtin__\nfrozenset\np0\n((lp1\ntp2\nRp3\n.",
                b"c__builtin__\nfrozenset\nq\x00(]q\x01tq\x02Rq\x03.",
                b"\x80\x02c__builtin__\nfrozenset\nq\x00]q\x01\x85q\x02Rq\x03.",
                b"\x80\x03cbuiltins\nfrozenset\nq\x00]q\x01\x85q\x02Rq\x03.",
                b"\x80\x04\x95\x04\x00\x00\x00\x00\x00\x00\x00(\x91\x94.",
                b"\x80\x05\x95\x04\x00\x00\x00\x00\x00\x00\x00(\x91\x94.",
            ],
            "frozenset()",
        );
    }

    #[test]
    fn refuses_bytes_called_with_arguments() {
        // bytes(10), bytes((1,)), bytes(b'') (an argument, even empty): Python never writes these.
        for bytes in [
            &b"c__builtin__\nbytes\n(I10\ntR."[..],
            b"\x80\x02cbuiltins\nbytes\nK\x01\x85\x85R.",
            b"\x80\x03cbuiltins\nbytes\nC\x00\x85R.",
            b"\x80\x02c__builtin__\nbytes\n]\x85R.",
        ] {
            let err = load(bytes).unwrap_err();
            assert!(err.to_string().contains("`bytes` called with"), "{err}");
        }
        // The bare global is not data either.
        assert!(load(b"cbuiltins\nbytes\n.").is_err());
        // Other globals stay refused, called with no arguments or not.
        let err = load(b"cbuiltins\ndict\n)R.").unwrap_err();
        assert!(err.to_string().contains("`builtins.dict`"), "{err}");
        let err = load(b"cbuiltins\nbytes.__new__\n)R.").unwrap_err();
        assert!(err.to_string().contains("refusing"), "{err}");
    }

    #[test]
    fn bounds_hostile_input() {
        // A 2^32-ish string length, a deep nest of lists, an exponential DUP, truncation.
        assert!(load(b"\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\xff.").is_err());
        let deep = [b"]".repeat(1000), b"\x85".repeat(999), b".".to_vec()].concat();
        assert!(matches!(load(&deep), Err(Error::TooDeep { .. })));
        let marks = [b"(".repeat(100_000), b"N.".to_vec()].concat();
        assert!(matches!(load(&marks), Err(Error::TooDeep { .. })));
        let dup = [b"N".to_vec(), b"2\x86".repeat(70), b".".to_vec()].concat();
        assert!(load(&dup).unwrap_err().to_string().contains("expands"));
        assert!(load(b"\x80\x02]q\x00(K\x01K").is_err());
        assert!(load(b"N.N.").unwrap_err().to_string().contains("trailing"));
        let recursive = b"\x80\x02]q\x00h\x00a.";
        assert!(load(recursive).is_err());
    }

    #[test]
    fn python_reprs() {
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(1e15), "1000000000000000.0");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(0.00001), "1e-05");
        assert_eq!(float_repr(-2.5), "-2.5");
        assert_eq!(bytes_repr(b"Hello, world"), "b'Hello, world'");
        assert_eq!(bytes_repr(b"it's\x00"), "b\"it's\\x00\"");
        assert_eq!(str_repr("a'b\"c\n"), "'a\\'b\"c\\n'");
    }

    #[test]
    fn json_round_trip() {
        let json: serde_json::Value =
            serde_json::from_str(r#"{"a": [1, 2.5, null, true], "b": {"$bytes": "00ff"}}"#)
                .unwrap();
        let value = from_json(&json).unwrap();
        assert_eq!(
            repr(&value),
            "{'a': [1, 2.5, None, True], 'b': b'\\x00\\xff'}"
        );
        let back = serde_json::to_value(Json(&value)).unwrap();
        assert_eq!(back, json);
        let pickled = value_to_vec(&value).unwrap();
        assert_eq!(load(&pickled).unwrap(), value);
    }
}
