//! The opcode scanner for [`from_slice_as`](super::from_slice_as): one pass over a pickle,
//! the way `pickletools.dis` walks it, that refuses what is unsafe or unbounded before
//! `serde-pickle` decodes anything into a Rust type.

use std::borrow::Cow;
use std::collections::HashMap;

use super::op;
use crate::{Error, Limits, Result};

/// The longest decimal integer accepted, in digits: Python's own default
/// (`sys.get_int_max_str_digits()`), which also keeps big-integer parsing linear-ish.
pub const MAX_INT_DIGITS: usize = 4300;

/// The longest binary integer (`LONG4`) accepted, in bytes: 4300 decimal digits.
const MAX_LONG_BYTES: usize = 1786;

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
pub(super) fn checked<'a>(data: &'a [u8], limits: &Limits) -> Result<Cow<'a, [u8]>> {
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
        if width == 4 && len > i32::MAX as u64 && self.data[self.at] == op::BINSTRING {
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
        // serde-pickle copies each shared value where it is used: bound what that produces.
        let cost = meta
            .nodes
            .saturating_mul(std::mem::size_of::<serde_pickle::Value>() as u64)
            .saturating_add(meta.bytes);
        if cost > self.limits.max_memory as u64 {
            return Err(Error::TooLarge {
                what: "the decoded pickle (shared references expanded)",
                max: self.limits.max_memory,
                offset: Some(self.at),
            });
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
                op::STOP => {
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
                op::PROTO => {
                    // PROTO
                    let proto = self.take(1)?[0];
                    if proto > 5 {
                        return self.fail(format_args!("unsupported pickle protocol {proto}"));
                    }
                }
                op::FRAME => {
                    // FRAME
                    self.take(8)?;
                }
                op::MARK => {
                    if self.marks.len() >= self.limits.max_depth {
                        return Err(Error::TooDeep {
                            max: self.limits.max_depth,
                        });
                    }
                    self.marks.push(self.stack.len());
                }
                op::POP => {
                    // POP: an item, or a MARK when the stack is at the mark.
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
                op::NONE | op::NEWTRUE | op::NEWFALSE => self.push_scalar(0),
                op::INT | op::LONG => {
                    let line = self.line()?;
                    let digits = line.iter().filter(|b| b.is_ascii_digit()).count();
                    if digits > MAX_INT_DIGITS {
                        return self.fail(format_args!(
                            "an integer of {digits} digits exceeds the limit of {MAX_INT_DIGITS}"
                        ));
                    }
                    self.push_scalar(0);
                }
                op::FLOAT => {
                    self.line()?;
                    self.push_scalar(0);
                }
                op::BINFLOAT => {
                    self.take(8)?;
                    self.push_scalar(0);
                }
                op::BININT => {
                    self.take(4)?;
                    self.push_scalar(0);
                }
                op::BININT1 => {
                    self.take(1)?;
                    self.push_scalar(0);
                }
                op::BININT2 => {
                    self.take(2)?;
                    self.push_scalar(0);
                }
                op::LONG1 => {
                    let n = self.len_prefixed(1)?;
                    self.take(n)?;
                    self.push_scalar(0);
                }
                op::LONG4 => {
                    let n = self.len_prefixed(4)?;
                    if n > MAX_LONG_BYTES {
                        return self.fail(format_args!(
                            "an integer of {n} bytes exceeds the limit of {MAX_LONG_BYTES} ({MAX_INT_DIGITS} digits)"
                        ));
                    }
                    self.take(n)?;
                    self.push_scalar(0);
                }
                op::STRING | op::UNICODE => {
                    let line = self.line()?.to_vec();
                    self.push_text(&line);
                }
                op::SHORT_BINSTRING | op::SHORT_BINBYTES | op::SHORT_BINUNICODE => {
                    let n = self.len_prefixed(1)?;
                    let raw = self.take(n)?.to_vec();
                    self.push_text(&raw);
                }
                op::BINSTRING | op::BINUNICODE | op::BINBYTES => {
                    let n = self.len_prefixed(4)?;
                    let raw = self.take(n)?.to_vec();
                    self.push_text(&raw);
                }
                op::BINUNICODE8 | op::BINBYTES8 | op::BYTEARRAY8 => {
                    let n = self.len_prefixed(8)?;
                    let raw = self.take(n)?.to_vec();
                    self.push_text(&raw);
                }
                op::EMPTY_TUPLE => self.empty_tuple()?,
                op::EMPTY_LIST | op::EMPTY_DICT | op::EMPTY_SET => self.container(&[])?,
                op::TUPLE1 => {
                    let a = self.pop()?;
                    self.container(&[a])?;
                }
                op::TUPLE2 => {
                    let b = self.pop()?;
                    let a = self.pop()?;
                    self.container(&[a, b])?;
                }
                op::TUPLE3 => {
                    let c = self.pop()?;
                    let b = self.pop()?;
                    let a = self.pop()?;
                    self.container(&[a, b, c])?;
                }
                op::TUPLE | op::LIST | op::DICT | op::FROZENSET => {
                    let items = self.pop_mark()?;
                    if op == op::DICT && !items.len().is_multiple_of(2) {
                        return self.fail("DICT with an odd number of items");
                    }
                    if op == op::TUPLE && items.is_empty() {
                        self.empty_tuple()?;
                    } else {
                        self.container(&items)?;
                    }
                }
                op::APPEND => {
                    let item = self.pop()?;
                    self.extend_top(&[item])?;
                }
                op::SETITEM => {
                    let value = self.pop()?;
                    let key = self.pop()?;
                    self.extend_top(&[key, value])?;
                }
                op::APPENDS | op::SETITEMS | op::ADDITEMS => {
                    let items = self.pop_mark()?;
                    if op == op::SETITEMS && !items.len().is_multiple_of(2) {
                        return self.fail("SETITEMS with an odd number of items");
                    }
                    self.extend_top(&items)?;
                }
                op::GLOBAL => {
                    let module = String::from_utf8_lossy(self.line()?).into_owned();
                    let name = String::from_utf8_lossy(self.line()?).into_owned();
                    self.global(&module, &name)?;
                }
                op::STACK_GLOBAL => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (module.text, name.text) {
                        (Some(module), Some(name)) => self.global(&module, &name)?,
                        _ => return self.fail("STACK_GLOBAL without a module and a name"),
                    }
                }
                op::REDUCE => self.reduce()?,
                op::INST => return self.refuse("INST (a class instance)"),
                op::OBJ => return self.refuse("OBJ (a class instance)"),
                op::NEWOBJ => return self.refuse("NEWOBJ (a class instance)"),
                op::NEWOBJ_EX => return self.refuse("NEWOBJ_EX (a class instance)"),
                op::BUILD => return self.refuse("BUILD (an instance's state)"),
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
}
