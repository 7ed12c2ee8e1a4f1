//! Python's `repr` of decoded pickle values, with numpy arrays printed by a formatter the
//! caller passes (notes-ipc does not depend on an array library).

use std::collections::HashMap;
use std::fmt::Write as _;

use super::value::{Array, Item, Kind, Time, TimeDelta, TimeZone, Value};
use crate::{Error, Limits, Result};

/// Formats `value` as Python's `repr` would, with numpy arrays in the short form of
/// [`array_summary`]; see [`repr_with`].
///
/// # Errors
/// [`Error::TooLarge`] when the value, with its shared parts counted each time they
/// appear, is larger than the default [`Limits::max_memory`].
pub fn repr(value: &Value) -> Result<String> {
    repr_with(value, &array_summary, &Limits::default())
}

/// Formats `value` as Python's `repr` would: dicts, sets and the `collections` types in
/// their (pickled) order, `Counter` by count as `Counter.__repr__` sorts it, datetimes,
/// `Decimal` and `complex` as Python 3.11 prints them, numpy scalars as numpy 2 does
/// (`np.float64(1.5)`), and each numpy array as `array` prints it (numpy's `repr`, when
/// the caller has one).
///
/// # Errors
/// [`Error::TooLarge`] when the value, with its shared parts counted each time they
/// appear, is larger than `limits.max_memory`: a pickle of a few bytes can share one
/// list so that its printed form would take gigabytes.
pub fn repr_with(
    value: &Value,
    array: &dyn Fn(&Array) -> String,
    limits: &Limits,
) -> Result<String> {
    check_expansion(value, limits)?;
    let mut out = String::new();
    Printer { array }.value(&mut out, value);
    Ok(out)
}

/// A short, numpy-like description of an array without its values:
/// `array(<2x3 float32, C order>)`, for callers without an array printer.
pub fn array_summary(array: &Array) -> String {
    let dims: Vec<String> = array.shape().iter().map(usize::to_string).collect();
    format!(
        "array(<{} {}, {} order>)",
        if dims.is_empty() {
            "0-d".to_string()
        } else {
            dims.join("x")
        },
        array.dtype().name(),
        if array.is_fortran() { "Fortran" } else { "C" }
    )
}

/// What `value` costs once printed or converted, its shared parts expanded: each value
/// counts 32 bytes plus its text or data. Counted per distinct shared part (memoized), so
/// it is quick even for a small pickle that would expand enormously.
pub(crate) fn check_expansion(value: &Value, limits: &Limits) -> Result<()> {
    fn cost(value: &Value, seen: &mut HashMap<usize, u64>) -> u64 {
        let key = match value {
            Value::List(v)
            | Value::Tuple(v)
            | Value::Set(v)
            | Value::FrozenSet(v)
            | Value::Deque(v, _) => Some(std::sync::Arc::as_ptr(v) as usize),
            Value::Dict(v)
            | Value::OrderedDict(v)
            | Value::Counter(v)
            | Value::DefaultDict(_, v) => Some(std::sync::Arc::as_ptr(v) as usize),
            _ => None,
        };
        if let Some(known) = key.and_then(|k| seen.get(&k)) {
            return *known;
        }
        let total = 32u64.saturating_add(match value {
            Value::Str(s) | Value::Decimal(s) => s.len() as u64,
            Value::Bytes(b) | Value::ByteArray(b) => b.len() as u64 * 4,
            Value::BigInt(_) => 4300,
            // The items, and the nested lists that print them: a (10**18, 0) array holds no
            // data but would print 10**18 empty rows.
            Value::Array(a) | Value::Scalar(a) => {
                let mut rows = 1u64;
                let mut lists = 0u64;
                for &dim in a.shape() {
                    lists = lists.saturating_add(rows);
                    rows = rows.saturating_mul(dim as u64);
                }
                (a.data().len() as u64).saturating_add(lists.saturating_mul(2))
            }
            Value::List(v)
            | Value::Tuple(v)
            | Value::Set(v)
            | Value::FrozenSet(v)
            | Value::Deque(v, _) => v
                .iter()
                .fold(0u64, |acc, item| acc.saturating_add(cost(item, seen))),
            Value::Dict(v)
            | Value::OrderedDict(v)
            | Value::Counter(v)
            | Value::DefaultDict(_, v) => v.iter().fold(0u64, |acc, (k, v)| {
                acc.saturating_add(cost(k, seen))
                    .saturating_add(cost(v, seen))
            }),
            _ => 0,
        });
        if let Some(k) = key {
            seen.insert(k, total);
        }
        total
    }
    let total = cost(value, &mut HashMap::new());
    if total > limits.max_memory as u64 {
        return Err(Error::TooLarge {
            what: "the value once its shared parts are expanded",
            max: limits.max_memory,
            offset: None,
        });
    }
    Ok(())
}

struct Printer<'a> {
    array: &'a dyn Fn(&Array) -> String,
}

impl Printer<'_> {
    fn value(&self, out: &mut String, value: &Value) {
        match value {
            Value::None => out.push_str("None"),
            Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::BigInt(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&float_repr(*f)),
            Value::Str(s) => out.push_str(&str_repr(s)),
            Value::Bytes(b) => out.push_str(&bytes_repr(b)),
            Value::ByteArray(b) => {
                out.push_str("bytearray(");
                out.push_str(&bytes_repr(b));
                out.push(')');
            }
            Value::List(items) => self.seq(out, "[", items, "]"),
            Value::Tuple(items) if items.len() == 1 => {
                out.push('(');
                self.value(out, &items[0]);
                out.push_str(",)");
            }
            Value::Tuple(items) => self.seq(out, "(", items, ")"),
            Value::Set(items) if items.is_empty() => out.push_str("set()"),
            Value::Set(items) => self.seq(out, "{", items, "}"),
            Value::FrozenSet(items) if items.is_empty() => out.push_str("frozenset()"),
            Value::FrozenSet(items) => self.seq(out, "frozenset({", items, "})"),
            Value::Dict(pairs) => self.dict(out, pairs.iter()),
            Value::DateTime(dt) => {
                let d = dt.date;
                let _ = write!(
                    out,
                    "datetime.datetime({}, {}, {}, ",
                    d.year, d.month, d.day
                );
                self.time_fields(out, &dt.time);
            }
            Value::Date(d) => {
                let _ = write!(out, "datetime.date({}, {}, {})", d.year, d.month, d.day);
            }
            Value::Time(t) => {
                out.push_str("datetime.time(");
                self.time_fields(out, t);
            }
            Value::TimeDelta(delta) => timedelta_repr(out, delta),
            Value::TimeZone(tz) => timezone_repr(out, tz),
            Value::Decimal(text) => {
                let _ = write!(out, "Decimal('{text}')");
            }
            Value::Complex(re, im) => out.push_str(&complex_repr(*re, *im)),
            Value::OrderedDict(pairs) if pairs.is_empty() => out.push_str("OrderedDict()"),
            Value::OrderedDict(pairs) => {
                out.push_str("OrderedDict([");
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push('(');
                    self.value(out, k);
                    out.push_str(", ");
                    self.value(out, v);
                    out.push(')');
                }
                out.push_str("])");
            }
            Value::DefaultDict(factory, pairs) => {
                match factory {
                    Some(name) => {
                        let _ = write!(out, "defaultdict(<class '{name}'>, ");
                    }
                    None => out.push_str("defaultdict(None, "),
                }
                self.dict(out, pairs.iter());
                out.push(')');
            }
            Value::Counter(pairs) if pairs.is_empty() => out.push_str("Counter()"),
            Value::Counter(pairs) => {
                out.push_str("Counter(");
                // `Counter.__repr__` prints `dict(self.most_common())`: by count, highest
                // first, ties in insertion order; unorderable counts in insertion order.
                let counts: Option<Vec<f64>> = pairs.iter().map(|(_, v)| number(v)).collect();
                match counts {
                    Some(counts) => {
                        let mut order: Vec<usize> = (0..pairs.len()).collect();
                        order.sort_by(|&a, &b| {
                            counts[b]
                                .partial_cmp(&counts[a])
                                .unwrap_or(std::cmp::Ordering::Equal)
                        });
                        self.dict(out, order.into_iter().map(|i| &pairs[i]));
                    }
                    None => self.dict(out, pairs.iter()),
                }
                out.push(')');
            }
            Value::Deque(items, maxlen) => {
                out.push_str("deque(");
                self.seq(out, "[", items, "]");
                if let Some(max) = maxlen {
                    let _ = write!(out, ", maxlen={max}");
                }
                out.push(')');
            }
            Value::Array(array) => out.push_str(&(self.array)(array)),
            Value::Scalar(array) => out.push_str(&scalar_repr(array)),
        }
    }

    fn seq(&self, out: &mut String, open: &str, items: &[Value], close: &str) {
        out.push_str(open);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.value(out, item);
        }
        out.push_str(close);
    }

    fn dict<'v>(&self, out: &mut String, pairs: impl Iterator<Item = &'v (Value, Value)>) {
        out.push('{');
        for (i, (k, v)) in pairs.enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.value(out, k);
            out.push_str(": ");
            self.value(out, v);
        }
        out.push('}');
    }

    /// `h, m[, s[, us]][, fold=1][, tzinfo=...])`, as `datetime` and `time` print them.
    fn time_fields(&self, out: &mut String, t: &Time) {
        let _ = write!(out, "{}, {}", t.hour, t.minute);
        if t.second != 0 || t.microsecond != 0 {
            let _ = write!(out, ", {}", t.second);
        }
        if t.microsecond != 0 {
            let _ = write!(out, ", {}", t.microsecond);
        }
        if t.fold {
            out.push_str(", fold=1");
        }
        if let Some(tz) = &t.tz {
            out.push_str(", tzinfo=");
            timezone_repr(out, tz);
        }
        out.push(')');
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Int(i) => Some(*i as f64),
        Value::BigInt(i) => i.to_string().parse().ok(),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn timedelta_repr(out: &mut String, delta: &TimeDelta) {
    out.push_str("datetime.timedelta(");
    let mut parts = Vec::new();
    if delta.days != 0 {
        parts.push(format!("days={}", delta.days));
    }
    if delta.seconds != 0 {
        parts.push(format!("seconds={}", delta.seconds));
    }
    if delta.microseconds != 0 {
        parts.push(format!("microseconds={}", delta.microseconds));
    }
    if parts.is_empty() {
        out.push('0');
    }
    out.push_str(&parts.join(", "));
    out.push(')');
}

fn timezone_repr(out: &mut String, tz: &TimeZone) {
    if tz.is_utc() {
        out.push_str("datetime.timezone.utc");
        return;
    }
    out.push_str("datetime.timezone(");
    timedelta_repr(out, &tz.offset);
    if let Some(name) = &tz.name {
        out.push_str(", ");
        out.push_str(&str_repr(name));
    }
    out.push(')');
}

/// Python's `repr` of a `complex`: `(1+2j)`, `2j`, `(-0-1j)`, `(nan+infj)`.
pub fn complex_repr(re: f64, im: f64) -> String {
    let im_text = short_float(im);
    if re == 0.0 && re.is_sign_positive() {
        return format!("{im_text}j");
    }
    let sign = if im_text.starts_with('-') { "" } else { "+" };
    format!("({}{sign}{im_text}j)", short_float(re))
}

/// A float as `complex.__repr__` writes its parts: `repr` without a forced `.0`.
fn short_float(f: f64) -> String {
    let text = float_repr(f);
    match text.strip_suffix(".0") {
        Some(short) => short.to_string(),
        None => text,
    }
}

/// numpy 2's `repr` of a numpy scalar: `np.float64(1.5)`, `np.int32(7)`, `np.True_`.
pub fn scalar_repr(array: &Array) -> String {
    let dtype = array.dtype();
    let item = if array.is_empty() {
        None
    } else {
        Some(array.item(0))
    };
    let text = match item {
        Some(Item::Bool(b)) => return if b { "np.True_" } else { "np.False_" }.into(),
        Some(Item::Int(i)) => i.to_string(),
        Some(Item::UInt(u)) => u.to_string(),
        Some(Item::Float(f)) => sized_float_repr(f, dtype.size),
        Some(Item::Complex(re, im)) => {
            let part = |f: f64| {
                let t = sized_float_repr(f, dtype.size / 2);
                t.strip_suffix(".0").map(str::to_string).unwrap_or(t)
            };
            let im_text = part(im);
            let sign = if im_text.starts_with('-') { "" } else { "+" };
            format!("{}{sign}{im_text}j", part(re))
        }
        None => String::new(),
    };
    debug_assert!(dtype.kind != Kind::Bool);
    format!("np.{}({text})", dtype.name())
}

/// The shortest `repr` of a float that has only `size` bytes of precision (2, 4 or 8).
pub(crate) fn sized_float_repr(f: f64, size: usize) -> String {
    match size {
        4 => float_repr_from(f as f32, |x| format!("{x:e}"), |x| format!("{x}")),
        2 if f.is_finite() => {
            // The shortest digits that read back as the same half float.
            let bits = super::value::f64_to_f16_bits(f);
            for digits in 1..=5 {
                let text = format!("{:.*e}", digits - 1, f);
                let back: f64 = text.parse().unwrap_or(f64::NAN);
                if super::value::f64_to_f16_bits(back) == bits {
                    return float_repr(back);
                }
            }
            float_repr(f)
        }
        _ => float_repr(f),
    }
}

/// Python's `repr` of a float: the shortest round-trip digits, in exponent form when the
/// exponent is below -4 or at least 16.
pub fn float_repr(f: f64) -> String {
    float_repr_from(f, |x| format!("{x:e}"), |x| format!("{x}"))
}

fn float_repr_from<F: Into<f64> + Copy>(
    f: F,
    sci: impl Fn(F) -> String,
    plain: impl Fn(F) -> String,
) -> String {
    let wide: f64 = f.into();
    if wide.is_nan() {
        return "nan".into();
    }
    if wide.is_infinite() {
        return if wide > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = sci(f);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let plain = plain(f);
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
            c if !is_printable(c) => {
                let code = c as u32;
                let _ = if code <= 0xff {
                    write!(out, "\\x{code:02x}")
                } else if code <= 0xffff {
                    write!(out, "\\u{code:04x}")
                } else {
                    write!(out, "\\U{code:08x}")
                };
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// Python's `str.isprintable`, for the characters that matter in a terminal (Python consults
/// the whole Unicode database; unassigned code points are not covered here): the C0 and C1
/// controls, the spaces other than U+0020, the soft hyphen, the zero-width and bidirectional
/// format characters, the line and paragraph separators and the byte-order mark are not
/// printable, so `repr` escapes them (a name cannot forge a line of output or reorder one).
fn is_printable(c: char) -> bool {
    !matches!(
        c as u32,
        0..=0x1f
            | 0x7f..=0xa0
            | 0xad
            | 0x1680
            | 0x2000..=0x200f
            | 0x2028..=0x202f
            | 0x205f..=0x206f
            | 0x3000
            | 0xfeff
            | 0xfff9..=0xfffb
    )
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
