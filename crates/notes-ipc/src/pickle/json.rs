//! JSON renderings of decoded pickle values, and their inverse.

use serde::Serialize;

use super::{HashableValue, Value, float_repr, repr};
use crate::{Error, Result};

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
