//! Python's `repr` of decoded pickle values.

use std::fmt::Write as _;

use super::{HashableValue, Value};

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
