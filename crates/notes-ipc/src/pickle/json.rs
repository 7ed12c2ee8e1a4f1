//! JSON renderings of decoded pickle values, and their exact inverse.
//!
//! The mapping, documented for users in [`Json`], is lossless: every Python value that JSON
//! has no type for is an object with exactly one key that starts with `$` (a *marker*),
//! and a dict that would look like a marker is written in the `$dict` form. Reading JSON
//! back ([`from_json`]) parses numbers itself, so integers of any size survive.

use std::sync::Arc;

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq};

use super::decode::canonical_decimal;
use super::value::{Array, BigInt, DType, Date, DateTime, Item, Time, TimeDelta, TimeZone, Value};
use super::{MAX_INT_DIGITS, float_repr};
use crate::{Error, Limits, Result};

/// A [`Value`] as JSON, for `serde_json` and friends. Exact: [`from_json`] reads back the
/// same value. The mapping:
///
/// | Python | JSON |
/// | --- | --- |
/// | `None`, `bool`, `str`, `list` | `null`, `true`/`false`, string, array |
/// | `int` | number, exact at any size (big integers are written digit for digit) |
/// | `float` | number with a fraction or exponent (`1.0`); `inf`, `-inf`, `nan` as `{"$float": "inf"}` |
/// | `dict` with string keys | object, unless it has exactly one key and that key starts with `$` |
/// | any other `dict` | `{"$dict": [[key, value], ...]}` |
/// | `tuple`, `set`, `frozenset` | `{"$tuple": [...]}`, `{"$set": [...]}`, `{"$frozenset": [...]}` |
/// | `bytes`, `bytearray` | `{"$bytes": "<lowercase hex>"}`, `{"$bytearray": "<hex>"}` |
/// | `datetime.datetime` | `{"$datetime": "2024-10-19T08:35:12.975783+00:00"}` (ISO 8601, `isoformat()`) |
/// | `datetime.date`, `datetime.time` | `{"$date": "2024-10-19"}`, `{"$time": "08:35:12"}` |
/// | a `datetime` or `time` whose timezone has a name, or with `fold=1` | `{"$datetime": {"iso": "...", "tzname": "CET", "fold": 1}}` |
/// | `datetime.timedelta` | `{"$timedelta": [days, seconds, microseconds]}` |
/// | `datetime.timezone` | `{"$timezone": "+02:00"}`, named: `{"$timezone": ["+02:00", "CET"]}` |
/// | `decimal.Decimal` | `{"$decimal": "1.10"}` |
/// | `complex` | `{"$complex": [real, imag]}` |
/// | `OrderedDict`, `Counter` | `{"$OrderedDict": [[key, value], ...]}`, `{"$Counter": [[key, count], ...]}` |
/// | `defaultdict` | `{"$defaultdict": ["list", [[key, value], ...]]}` (the factory, or `null`) |
/// | `deque` | `{"$deque": [[items...], maxlen]}` (`maxlen` or `null`) |
/// | numpy array | `{"$ndarray": {"dtype": "<f8", "shape": [2, 3], "order": "C", "values": [[...], [...]]}}` |
/// | numpy scalar | `{"$npscalar": {"dtype": "<f8", "value": 1.5}}` |
///
/// Array values nest as the shape says (row-major, whatever the memory order); complex
/// items are `[real, imag]`; the dtype is numpy's `dtype.str` (byte order and size).
#[derive(Debug, Clone, Copy)]
pub struct Json<'a> {
    value: &'a Value,
}

impl<'a> Json<'a> {
    /// The JSON form of `value`.
    ///
    /// # Errors
    /// [`Error::TooLarge`] when the value, its shared parts counted each time they appear,
    /// or its JSON (pretty-printed, the larger form) exceeds `limits.max_memory` bytes.
    pub fn new(value: &'a Value, limits: &Limits) -> Result<Self> {
        super::repr::check_expansion(value, limits)?;
        // The JSON itself, counted (not kept) as `serde_json`'s pretty printer, the larger of
        // its forms, would write it: indentation grows with depth, so a value that is small
        // once expanded may still print gigabytes (2^22 shared `None`s nested 22 deep).
        let mut budget = Budget(limits.max_memory as u64);
        if serde_json::to_writer_pretty(&mut budget, &J(value)).is_err() {
            return Err(Error::TooLarge {
                what: "the JSON of the value",
                max: limits.max_memory,
                offset: None,
            });
        }
        Ok(Self { value })
    }
}

/// A writer that keeps nothing and fails once more than its bytes have been written.
struct Budget(u64);

impl std::io::Write for Budget {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = self
            .0
            .checked_sub(buf.len() as u64)
            .ok_or_else(|| std::io::Error::other("over budget"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The key of the object that stands for `bytes` in [`Json`] and [`from_json`].
pub const BYTES_KEY: &str = "$bytes";

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
    }
    out
}

struct J<'a>(&'a Value);
struct Float(f64);
struct Pairs<'a>(&'a [(Value, Value)]);
struct Items<'a>(&'a [Value]);
struct ArrayValues<'a>(&'a Array, usize, usize);
struct ItemJ(Item);

fn marker<S: serde::Serializer, T: Serialize + ?Sized>(
    s: S,
    key: &str,
    value: &T,
) -> std::result::Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(1))?;
    map.serialize_entry(key, value)?;
    map.end()
}

impl Serialize for Json<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        J(self.value).serialize(s)
    }
}

impl Serialize for Float {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            s.serialize_f64(self.0)
        } else {
            marker(s, "$float", &float_repr(self.0))
        }
    }
}

impl Serialize for Items<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&J(item))?;
        }
        seq.end()
    }
}

impl Serialize for Pairs<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (k, v) in self.0 {
            seq.serialize_element(&(J(k), J(v)))?;
        }
        seq.end()
    }
}

impl Serialize for ItemJ {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.0 {
            Item::Bool(b) => s.serialize_bool(b),
            Item::Int(i) => s.serialize_i64(i),
            Item::UInt(u) => s.serialize_u64(u),
            Item::Float(f) => Float(f).serialize(s),
            Item::Complex(re, im) => (Float(re), Float(im)).serialize(s),
        }
    }
}

impl Serialize for ArrayValues<'_> {
    /// The items along axis `self.1`, from the row-major index `self.2`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let ArrayValues(array, axis, start) = *self;
        let shape = array.shape();
        if axis == shape.len() {
            return ItemJ(array.item(start)).serialize(s);
        }
        let stride: usize = shape[axis + 1..].iter().product();
        let mut seq = s.serialize_seq(Some(shape[axis]))?;
        for i in 0..shape[axis] {
            seq.serialize_element(&ArrayValues(array, axis + 1, start + i * stride))?;
        }
        seq.end()
    }
}

fn dt_form(iso: String, time: &Time) -> serde_json::Value {
    let tzname = time.tz.as_ref().and_then(|tz| tz.name.clone());
    if tzname.is_none() && !time.fold {
        return iso.into();
    }
    let mut map = serde_json::Map::new();
    map.insert("iso".into(), iso.into());
    if let Some(name) = tzname {
        map.insert("tzname".into(), name.to_string().into());
    }
    if time.fold {
        map.insert("fold".into(), 1.into());
    }
    map.into()
}

impl Serialize for J<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        match self.0 {
            Value::None => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::BigInt(i) => serde_json::value::RawValue::from_string(i.to_string())
                .map_err(S::Error::custom)?
                .serialize(s),
            Value::Float(f) => Float(*f).serialize(s),
            Value::Str(text) => s.serialize_str(text),
            Value::Bytes(b) => marker(s, BYTES_KEY, &hex(b)),
            Value::ByteArray(b) => marker(s, "$bytearray", &hex(b)),
            Value::List(items) => Items(items).serialize(s),
            Value::Tuple(items) => marker(s, "$tuple", &Items(items)),
            Value::Set(items) => marker(s, "$set", &Items(items)),
            Value::FrozenSet(items) => marker(s, "$frozenset", &Items(items)),
            Value::Dict(pairs) => {
                let plain = pairs.iter().all(|(k, _)| matches!(k, Value::Str(_)))
                    && !(pairs.len() == 1
                        && matches!(&pairs[0].0, Value::Str(k) if k.starts_with('$')));
                if !plain {
                    return marker(s, "$dict", &Pairs(pairs));
                }
                let mut map = s.serialize_map(Some(pairs.len()))?;
                for (k, v) in pairs.iter() {
                    if let Value::Str(k) = k {
                        map.serialize_entry(&**k, &J(v))?;
                    }
                }
                map.end()
            }
            Value::DateTime(dt) => marker(s, "$datetime", &dt_form(dt.iso(), &dt.time)),
            Value::Date(d) => marker(s, "$date", &d.iso()),
            Value::Time(t) => marker(s, "$time", &dt_form(t.iso(), t)),
            Value::TimeDelta(d) => marker(s, "$timedelta", &(d.days, d.seconds, d.microseconds)),
            Value::TimeZone(tz) => match &tz.name {
                None => marker(s, "$timezone", &tz.offset_string()),
                Some(name) => marker(s, "$timezone", &(tz.offset_string(), &**name)),
            },
            Value::Decimal(text) => marker(s, "$decimal", &**text),
            Value::Complex(re, im) => marker(s, "$complex", &(Float(*re), Float(*im))),
            Value::OrderedDict(pairs) => marker(s, "$OrderedDict", &Pairs(pairs)),
            Value::Counter(pairs) => marker(s, "$Counter", &Pairs(pairs)),
            Value::DefaultDict(factory, pairs) => {
                marker(s, "$defaultdict", &(factory.as_deref(), Pairs(pairs)))
            }
            Value::Deque(items, maxlen) => marker(s, "$deque", &(Items(items), maxlen)),
            Value::Array(array) => {
                let mut map = serde_json::Map::new();
                map.insert("dtype".into(), array.dtype().str_code().into());
                map.insert("shape".into(), array.shape().into());
                map.insert(
                    "order".into(),
                    if array.is_fortran() { "F" } else { "C" }.into(),
                );
                struct Body<'a>(&'a Array, serde_json::Map<String, serde_json::Value>);
                impl Serialize for Body<'_> {
                    fn serialize<S: serde::Serializer>(
                        &self,
                        s: S,
                    ) -> std::result::Result<S::Ok, S::Error> {
                        let mut map = s.serialize_map(Some(4))?;
                        for (k, v) in &self.1 {
                            map.serialize_entry(k, v)?;
                        }
                        map.serialize_entry("values", &ArrayValues(self.0, 0, 0))?;
                        map.end()
                    }
                }
                marker(s, "$ndarray", &Body(array, map))
            }
            Value::Scalar(array) => {
                let mut map = serde_json::Map::new();
                map.insert("dtype".into(), array.dtype().str_code().into());
                struct Body<'a>(&'a Array, serde_json::Map<String, serde_json::Value>);
                impl Serialize for Body<'_> {
                    fn serialize<S: serde::Serializer>(
                        &self,
                        s: S,
                    ) -> std::result::Result<S::Ok, S::Error> {
                        let mut map = s.serialize_map(Some(2))?;
                        for (k, v) in &self.1 {
                            map.serialize_entry(k, v)?;
                        }
                        map.serialize_entry("value", &ItemJ(self.0.item(0)))?;
                        map.end()
                    }
                }
                marker(s, "$npscalar", &Body(array, map))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reading JSON back.

/// A JSON value with its numbers kept as text, so that none is rounded.
#[derive(Debug)]
enum Node {
    Null,
    Bool(bool),
    Number(String),
    Str(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    max_depth: usize,
}

impl Parser<'_> {
    fn fail<T>(&self, what: &str) -> Result<T> {
        let before = &self.text[..self.pos.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        Err(Error::Encode(format!(
            "invalid JSON at line {line}, column {column}: {what}"
        )))
    }

    fn ws(&mut self) {
        let bytes = self.text.as_bytes();
        while self.pos < bytes.len() && matches!(bytes[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node> {
        if depth > self.max_depth {
            return Err(Error::TooDeep {
                max: self.max_depth,
            });
        }
        self.ws();
        let bytes = self.text.as_bytes();
        let Some(&b) = bytes.get(self.pos) else {
            return self.fail("unexpected end of input");
        };
        match b {
            b'{' => {
                self.pos += 1;
                let mut items: Vec<(String, Node)> = Vec::new();
                let mut seen = std::collections::HashSet::new();
                self.ws();
                if bytes.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(Node::Object(items));
                }
                loop {
                    self.ws();
                    if bytes.get(self.pos) != Some(&b'"') {
                        return self.fail("expected a string key");
                    }
                    let key = self.string()?;
                    if !seen.insert(key.clone()) {
                        return self.fail(&format!("duplicate key {key:?}"));
                    }
                    self.ws();
                    if bytes.get(self.pos) != Some(&b':') {
                        return self.fail("expected `:`");
                    }
                    self.pos += 1;
                    let value = self.value(depth + 1)?;
                    items.push((key, value));
                    self.ws();
                    match bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Node::Object(items));
                        }
                        _ => return self.fail("expected `,` or `}`"),
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if bytes.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(Node::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Node::Array(items));
                        }
                        _ => return self.fail("expected `,` or `]`"),
                    }
                }
            }
            b'"' => Ok(Node::Str(self.string()?)),
            b't' if self.text[self.pos..].starts_with("true") => {
                self.pos += 4;
                Ok(Node::Bool(true))
            }
            b'f' if self.text[self.pos..].starts_with("false") => {
                self.pos += 5;
                Ok(Node::Bool(false))
            }
            b'n' if self.text[self.pos..].starts_with("null") => {
                self.pos += 4;
                Ok(Node::Null)
            }
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                let end = bytes[start..]
                    .iter()
                    .position(|c| !matches!(c, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                    .map_or(bytes.len(), |n| start + n);
                let text = &self.text[start..end];
                if !valid_number(text) {
                    return self.fail(&format!("{text:?} is not a JSON number"));
                }
                self.pos = end;
                Ok(Node::Number(text.to_string()))
            }
            _ => self.fail("expected a value"),
        }
    }

    fn string(&mut self) -> Result<String> {
        // serde_json decodes the string literal (escapes, surrogate pairs) exactly.
        let rest = &self.text[self.pos..];
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<String>();
        match stream.next() {
            Some(Ok(text)) => {
                self.pos += stream.byte_offset();
                Ok(text)
            }
            _ => self.fail("invalid string"),
        }
    }
}

/// Whether `text` is a JSON number (`-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`).
fn valid_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Builds a [`Value`] from JSON text, the exact inverse of [`Json`]: objects with string
/// keys become dicts (in their order), arrays lists, markers (`{"$tuple": [...]}`, ...)
/// the values they stand for. Integers keep every digit (up to Python's 4300).
///
/// # Errors
/// [`Error::Encode`] for invalid JSON (with line and column), a duplicate key, an object
/// with one `$` key that is not a known marker, or a marker whose content is malformed;
/// [`Error::TooDeep`] past `limits.max_depth`.
pub fn from_json(text: &str, limits: &Limits) -> Result<Value> {
    let mut parser = Parser {
        text,
        pos: 0,
        // A marker takes up to three JSON levels for one Python level (`{"$dict": [[k, v]]}`)
        // and an array's values up to 64 more; the Python depth is checked after.
        max_depth: limits.max_depth.saturating_mul(3).saturating_add(4).max(72),
    };
    let node = parser.value(0)?;
    parser.ws();
    if parser.pos != text.len() {
        return parser.fail("trailing characters after the JSON value");
    }
    let value = convert(&node)?;
    if nesting(&value, 0, limits.max_depth) > limits.max_depth {
        return Err(Error::TooDeep {
            max: limits.max_depth,
        });
    }
    Ok(value)
}

/// The levels of containers in `value` (as the pickle reader counts them), stopping
/// once past `max`.
fn nesting(value: &Value, depth: usize, max: usize) -> usize {
    if depth > max {
        return depth;
    }
    let deepest = |items: &mut dyn Iterator<Item = &Value>| {
        items
            .map(|item| nesting(item, depth + 1, max))
            .max()
            .unwrap_or(depth)
    };
    match value {
        Value::List(v)
        | Value::Tuple(v)
        | Value::Set(v)
        | Value::FrozenSet(v)
        | Value::Deque(v, _) => deepest(&mut v.iter()),
        Value::Dict(v) | Value::OrderedDict(v) | Value::Counter(v) | Value::DefaultDict(_, v) => {
            deepest(&mut v.iter().flat_map(|(k, v)| [k, v]))
        }
        _ => depth,
    }
}

fn bad<T>(what: impl std::fmt::Display) -> Result<T> {
    Err(Error::Encode(what.to_string()))
}

fn number(text: &str) -> Result<Value> {
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::Int(i));
        }
        if text.len() > MAX_INT_DIGITS + 1 {
            return bad(format_args!(
                "an integer of {} digits exceeds the limit of {MAX_INT_DIGITS}",
                text.len()
            ));
        }
        return match text.parse::<BigInt>() {
            Ok(big) => Ok(Value::BigInt(Arc::new(big))),
            Err(_) => bad(format_args!("{text:?} is not an integer")),
        };
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Value::Float(f)),
        _ => bad(format_args!(
            "{text:?} is outside the range of a float (write {{\"$float\": \"inf\"}} for infinity)"
        )),
    }
}

fn float_of(node: &Node) -> Result<f64> {
    match node {
        Node::Number(text) => match number(text)? {
            Value::Int(i) => Ok(i as f64),
            Value::Float(f) => Ok(f),
            _ => bad("a number too large for a float"),
        },
        Node::Object(items) if items.len() == 1 && items[0].0 == "$float" => match &items[0].1 {
            Node::Str(s) if s == "inf" => Ok(f64::INFINITY),
            Node::Str(s) if s == "-inf" => Ok(f64::NEG_INFINITY),
            Node::Str(s) if s == "nan" => Ok(f64::NAN),
            _ => bad("$float must be \"inf\", \"-inf\" or \"nan\""),
        },
        _ => bad("expected a number"),
    }
}

fn unhex(hex: &str, key: &str) -> Result<Vec<u8>> {
    let digits: Option<Vec<u8>> = hex
        .bytes()
        .map(|b| (b as char).to_digit(16).map(|d| d as u8))
        .collect();
    match digits {
        Some(d) if d.len().is_multiple_of(2) => Ok(d.chunks(2).map(|p| p[0] << 4 | p[1]).collect()),
        _ => bad(format_args!(
            "{key} must be an even number of hex digits, found {hex:?}"
        )),
    }
}

fn list(node: &Node, what: &str) -> Result<Vec<Value>> {
    match node {
        Node::Array(items) => items.iter().map(convert).collect(),
        _ => bad(format_args!("{what} must hold an array")),
    }
}

fn pairs(node: &Node, what: &str) -> Result<Vec<(Value, Value)>> {
    let Node::Array(items) = node else {
        return bad(format_args!(
            "{what} must hold an array of [key, value] pairs"
        ));
    };
    let mut out: Vec<(Value, Value)> = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::new();
    for item in items {
        match item {
            Node::Array(kv) if kv.len() == 2 => {
                let key = convert(&kv[0])?;
                new_key(&key, &mut seen, what)?;
                out.push((key, convert(&kv[1])?));
            }
            _ => {
                return bad(format_args!(
                    "{what} must hold an array of [key, value] pairs"
                ));
            }
        }
    }
    Ok(out)
}

fn parse_offset(text: &str) -> Option<TimeDelta> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1i128, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (hms, us) = match rest.split_once('.') {
        Some((hms, us)) if us.len() == 6 => (hms, us.parse::<i128>().ok()?),
        Some(_) => return None,
        None => (rest, 0),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2) {
        return None;
    }
    let n: Vec<i128> = parts
        .iter()
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let total = ((n[0] * 60 + n[1]) * 60 + n.get(2).copied().unwrap_or(0)) * 1_000_000 + us;
    TimeDelta::from_microseconds(sign * total)
}

fn parse_time(text: &str, tzname: Option<Arc<str>>, fold: bool) -> Option<Time> {
    let (clock, offset) = match text.find(['+', '-']) {
        Some(at) => (&text[..at], Some(&text[at..])),
        None => (text, None),
    };
    let (hms, us) = match clock.split_once('.') {
        Some((hms, us)) if us.len() == 6 => (hms, us.parse().ok()?),
        Some(_) => return None,
        None => (clock, 0),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.len() != 2) {
        return None;
    }
    let tz = match offset {
        // `datetime.timezone` takes offsets strictly within 24 hours.
        Some(off) => Some(Arc::new(TimeZone {
            offset: parse_offset(off).filter(|d| d.total_microseconds().abs() < 86_400_000_000)?,
            name: tzname,
        })),
        None if tzname.is_some() => return None,
        None => None,
    };
    let time = Time {
        hour: parts[0].parse().ok()?,
        minute: parts[1].parse().ok()?,
        second: parts[2].parse().ok()?,
        microsecond: us,
        fold,
        tz,
    };
    time.is_valid().then_some(time)
}

fn parse_date(text: &str) -> Option<Date> {
    let parts: Vec<&str> = text.split('-').collect();
    if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() != 2 || parts[2].len() != 2 {
        return None;
    }
    let date = Date {
        year: parts[0].parse().ok()?,
        month: parts[1].parse().ok()?,
        day: parts[2].parse().ok()?,
    };
    date.is_valid().then_some(date)
}

/// `"iso"` or `{"iso": ..., "tzname": ..., "fold": 1}`.
fn dt_parts(node: &Node, what: &str) -> Result<(String, Option<Arc<str>>, bool)> {
    match node {
        Node::Str(iso) => Ok((iso.clone(), None, false)),
        Node::Object(items) => {
            let mut iso = None;
            let mut tzname = None;
            let mut fold = false;
            for (k, v) in items {
                match (k.as_str(), v) {
                    ("iso", Node::Str(s)) => iso = Some(s.clone()),
                    ("tzname", Node::Str(s)) => tzname = Some(s.as_str().into()),
                    ("fold", Node::Number(n)) if n == "1" || n == "0" => fold = n == "1",
                    _ => return bad(format_args!("{what}: unexpected field {k:?}")),
                }
            }
            match iso {
                Some(iso) => Ok((iso, tzname, fold)),
                None => bad(format_args!("{what} has no \"iso\"")),
            }
        }
        _ => bad(format_args!("{what} must hold an ISO 8601 string")),
    }
}

fn array_items(node: &Node, dtype: DType, shape: &[usize], out: &mut Vec<Item>) -> Result<()> {
    let Some((&dim, rest)) = shape.split_first() else {
        let item = match (dtype.kind, node) {
            (super::value::Kind::Bool, Node::Bool(b)) => Item::Bool(*b),
            (super::value::Kind::Complex, Node::Array(parts)) if parts.len() == 2 => {
                Item::Complex(float_of(&parts[0])?, float_of(&parts[1])?)
            }
            (super::value::Kind::Float, other) => Item::Float(float_of(other)?),
            (super::value::Kind::Int | super::value::Kind::UInt, Node::Number(n)) => {
                match n.parse::<i64>() {
                    Ok(i) => Item::Int(i),
                    Err(_) => match n.parse::<u64>() {
                        Ok(u) => Item::UInt(u),
                        Err(_) => return bad(format_args!("{n} is not a {}", dtype.name())),
                    },
                }
            }
            _ => {
                return bad(format_args!(
                    "an item of a {} array has the wrong type",
                    dtype.name()
                ));
            }
        };
        out.push(item);
        return Ok(());
    };
    match node {
        Node::Array(items) if items.len() == dim => {
            for item in items {
                array_items(item, dtype, rest, out)?;
            }
            Ok(())
        }
        _ => bad("$ndarray values do not match its shape"),
    }
}

fn ndarray(node: &Node, scalar: bool) -> Result<Array> {
    let what = if scalar { "$npscalar" } else { "$ndarray" };
    let Node::Object(fields) = node else {
        return bad(format_args!("{what} must hold an object"));
    };
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let dtype = match field("dtype") {
        Some(Node::Str(code)) => match DType::from_str_code(code) {
            Some(d) => d,
            None => return bad(format_args!("{what}: unsupported dtype {code:?}")),
        },
        _ => return bad(format_args!("{what} has no \"dtype\"")),
    };
    let (shape, fortran, values) = if scalar {
        (Vec::new(), false, field("value"))
    } else {
        let shape = match field("shape") {
            Some(Node::Array(dims)) => dims
                .iter()
                .map(|d| match d {
                    Node::Number(n) => n.parse::<usize>().ok(),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>(),
            _ => None,
        };
        let Some(shape) = shape else {
            return bad("$ndarray has no \"shape\" (an array of sizes)");
        };
        let fortran = match field("order") {
            None => false,
            Some(Node::Str(o)) if o == "C" => false,
            Some(Node::Str(o)) if o == "F" => true,
            _ => return bad("$ndarray \"order\" must be \"C\" or \"F\""),
        };
        (shape, fortran, field("values"))
    };
    let Some(values) = values else {
        return bad(format_args!("{what} has no values"));
    };
    let mut items = Vec::new();
    array_items(values, dtype, &shape, &mut items)?;
    match Array::from_items(dtype, shape, fortran, &items) {
        Some(array) => Ok(array),
        None => bad(format_args!(
            "{what}: a value does not fit the dtype {} exactly",
            dtype.name()
        )),
    }
}

fn convert(node: &Node) -> Result<Value> {
    Ok(match node {
        Node::Null => Value::None,
        Node::Bool(b) => Value::Bool(*b),
        Node::Number(text) => number(text)?,
        Node::Str(text) => Value::Str(text.as_str().into()),
        Node::Array(items) => {
            Value::List(Arc::new(items.iter().map(convert).collect::<Result<_>>()?))
        }
        Node::Object(items) if items.len() == 1 && items[0].0.starts_with('$') => {
            let (key, inner) = (&items[0].0, &items[0].1);
            marker_value(key, inner)?
        }
        Node::Object(items) => Value::Dict(Arc::new(
            items
                .iter()
                .map(|(k, v)| Ok((Value::Str(k.as_str().into()), convert(v)?)))
                .collect::<Result<_>>()?,
        )),
    })
}

fn marker_value(key: &str, inner: &Node) -> Result<Value> {
    let string = |what: &str| match inner {
        Node::Str(s) => Ok(s.clone()),
        _ => bad(format_args!("{what} must hold a string")),
    };
    Ok(match key {
        "$bytes" => Value::Bytes(Arc::new(unhex(&string(key)?, key)?)),
        "$bytearray" => Value::ByteArray(Arc::new(unhex(&string(key)?, key)?)),
        "$float" => Value::Float(float_of(&Node::Object(vec![(
            key.into(),
            clone_str(inner)?,
        )]))?),
        "$tuple" => Value::Tuple(Arc::new(list(inner, key)?)),
        "$set" | "$frozenset" => {
            let items = list(inner, key)?;
            let mut seen = std::collections::HashSet::new();
            for item in &items {
                new_key(item, &mut seen, key)?;
            }
            if key == "$set" {
                Value::Set(Arc::new(items))
            } else {
                Value::FrozenSet(Arc::new(items))
            }
        }
        "$dict" => Value::Dict(Arc::new(pairs(inner, key)?)),
        "$OrderedDict" => Value::OrderedDict(Arc::new(pairs(inner, key)?)),
        "$Counter" => Value::Counter(Arc::new(pairs(inner, key)?)),
        "$defaultdict" => match inner {
            Node::Array(parts) if parts.len() == 2 => {
                let factory = match &parts[0] {
                    Node::Null => None,
                    Node::Str(name) if FACTORIES.contains(&name.as_str()) => {
                        Some(name.as_str().into())
                    }
                    _ => {
                        return bad(format_args!(
                            "$defaultdict factory must be null or one of {FACTORIES:?}"
                        ));
                    }
                };
                Value::DefaultDict(factory, Arc::new(pairs(&parts[1], key)?))
            }
            _ => return bad("$defaultdict must hold [factory, [[key, value], ...]]"),
        },
        "$deque" => match inner {
            Node::Array(parts) if parts.len() == 2 => {
                let maxlen = match &parts[1] {
                    Node::Null => None,
                    Node::Number(n) => match n.parse::<u64>() {
                        Ok(m) => Some(m),
                        Err(_) => return bad("$deque maxlen must be a size or null"),
                    },
                    _ => return bad("$deque maxlen must be a size or null"),
                };
                let items = list(&parts[0], key)?;
                if maxlen.is_some_and(|m| items.len() as u64 > m) {
                    return bad("$deque holds more items than its maxlen");
                }
                Value::Deque(Arc::new(items), maxlen)
            }
            _ => return bad("$deque must hold [[items...], maxlen]"),
        },
        "$decimal" => match canonical_decimal(&string(key)?) {
            Some(canon) => Value::Decimal(canon.into()),
            None => return bad("$decimal must hold a decimal number"),
        },
        "$complex" => match inner {
            Node::Array(parts) if parts.len() == 2 => {
                Value::Complex(float_of(&parts[0])?, float_of(&parts[1])?)
            }
            _ => return bad("$complex must hold [real, imag]"),
        },
        "$date" => match parse_date(&string(key)?) {
            Some(d) => Value::Date(d),
            None => return bad("$date must hold YYYY-MM-DD"),
        },
        "$time" => {
            let (iso, tzname, fold) = dt_parts(inner, key)?;
            match parse_time(&iso, tzname, fold) {
                Some(t) => Value::Time(Arc::new(t)),
                None => return bad("$time must hold HH:MM:SS[.ffffff][+HH:MM]"),
            }
        }
        "$datetime" => {
            let (iso, tzname, fold) = dt_parts(inner, key)?;
            let parsed = iso.split_once('T').and_then(|(d, t)| {
                Some(DateTime {
                    date: parse_date(d)?,
                    time: parse_time(t, tzname, fold)?,
                })
            });
            match parsed {
                Some(dt) => Value::DateTime(Arc::new(dt)),
                None => return bad("$datetime must hold YYYY-MM-DDTHH:MM:SS[.ffffff][+HH:MM]"),
            }
        }
        "$timedelta" => match inner {
            Node::Array(parts) if parts.len() == 3 => {
                let n: Option<Vec<i64>> = parts
                    .iter()
                    .map(|p| match p {
                        Node::Number(n) => n.parse().ok(),
                        _ => None,
                    })
                    .collect();
                match n.and_then(|n| TimeDelta::new(n[0], n[1], n[2])) {
                    Some(d) => Value::TimeDelta(d),
                    None => {
                        return bad("$timedelta must hold [days, seconds, microseconds] in range");
                    }
                }
            }
            _ => return bad("$timedelta must hold [days, seconds, microseconds]"),
        },
        "$timezone" => {
            let (offset, name) = match inner {
                Node::Str(off) => (off.clone(), None),
                Node::Array(parts) => match parts.as_slice() {
                    [Node::Str(off), Node::Str(name)] => (off.clone(), Some(name.as_str().into())),
                    _ => return bad("$timezone must hold \"+HH:MM\" or [\"+HH:MM\", name]"),
                },
                _ => return bad("$timezone must hold \"+HH:MM\" or [\"+HH:MM\", name]"),
            };
            match parse_offset(&offset) {
                Some(off) if off.total_microseconds().abs() < 86_400_000_000 => {
                    Value::TimeZone(Arc::new(TimeZone { offset: off, name }))
                }
                _ => return bad("$timezone offset must be within ±24 hours"),
            }
        }
        "$ndarray" => Value::Array(Arc::new(ndarray(inner, false)?)),
        "$npscalar" => Value::Scalar(Arc::new(ndarray(inner, true)?)),
        other => {
            return bad(format_args!(
                "{other:?} is not a known marker (a dict with that single key is written {{\"$dict\": [[{other:?}, value]]}})"
            ));
        }
    })
}

/// What tells two dict keys (or set items) apart as Python's `==` does for hashable values,
/// the way the pickle reader merges them (`1`, `1.0` and `True` are one key), in linear
/// time; `None` for an unhashable value (a list, dict, set, bytearray or array), which
/// Python cannot use as a key.
fn identity(value: &Value) -> Option<String> {
    Some(match value {
        Value::Bool(b) => format!("i{}", i64::from(*b)),
        Value::Int(i) => format!("i{i}"),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e18 => format!("i{}", *f as i64),
        Value::Float(f) => format!("f{}", f.to_bits()),
        Value::BigInt(i) => format!("I{i}"),
        Value::Str(s) => format!("s{s}"),
        Value::Bytes(b) => format!("b{}", hex(b)),
        Value::Tuple(items) => {
            let keys: Option<Vec<String>> = items.iter().map(identity).collect();
            format!("t{}", keys?.join("\u{0}"))
        }
        Value::FrozenSet(items) => {
            let mut keys: Vec<String> = items.iter().map(identity).collect::<Option<_>>()?;
            keys.sort();
            format!("F{}", keys.join("\u{0}"))
        }
        Value::List(_)
        | Value::Dict(_)
        | Value::Set(_)
        | Value::ByteArray(_)
        | Value::Array(_)
        | Value::OrderedDict(_)
        | Value::Counter(_)
        | Value::DefaultDict(..)
        | Value::Deque(..) => return None,
        other => format!("o{other:?}"),
    })
}

/// Whether `value` is or holds (in a tuple or frozenset) a NaN, which equals nothing: as a
/// key or set item it is never a duplicate (the reader keeps every NaN item, as Python does).
fn holds_nan(value: &Value) -> bool {
    match value {
        Value::Float(f) => f.is_nan(),
        Value::Tuple(items) | Value::FrozenSet(items) => items.iter().any(holds_nan),
        _ => false,
    }
}

/// Checks that `value` can be a dict key or set item and is not one already in `seen`.
fn new_key(value: &Value, seen: &mut std::collections::HashSet<String>, what: &str) -> Result<()> {
    match identity(value) {
        Some(_) if holds_nan(value) => Ok(()),
        None => bad(format_args!(
            "{what} holds an unhashable key or item (a list, dict, set, bytearray or array)"
        )),
        Some(id) => {
            if seen.insert(id) {
                Ok(())
            } else {
                bad(format_args!("{what} has a duplicate key or item"))
            }
        }
    }
}

fn clone_str(node: &Node) -> Result<Node> {
    match node {
        Node::Str(s) => Ok(Node::Str(s.clone())),
        _ => bad("$float must hold a string"),
    }
}

/// The `defaultdict` factories the JSON form accepts (those the pickle reader knows).
const FACTORIES: &[&str] = &[
    "list",
    "dict",
    "set",
    "frozenset",
    "int",
    "float",
    "str",
    "tuple",
    "bool",
    "bytes",
    "bytearray",
    "complex",
    "collections.OrderedDict",
    "collections.defaultdict",
    "collections.Counter",
    "collections.deque",
];
