//! Python pickles: a bounded, code-free reader (protocols 0 to 5) and a writer (protocol 3),
//! plus Python's `repr` and an exact JSON form of what was read.
//!
//! The reader ([`from_slice`], [`load`]) is a pickle machine of its own that never calls
//! anything named in the pickle. Globals are looked up in a fixed allow-list of known-safe
//! reconstructors, the pattern of "Restricting Globals" in Python's `pickle` documentation,
//! each implemented here and mapped to a typed [`Value`]:
//!
//! | global | value |
//! | --- | --- |
//! | `builtins.set`, `frozenset`, `bytearray`, `list`, `int`, `bytes()` (no arguments), `_codecs.encode(text, 'latin1')` | the plain values protocols 0 to 2 write this way |
//! | `datetime.datetime`, `date`, `time`, `timedelta`, `timezone` (and `timezone.utc`) | [`Value::DateTime`], ... |
//! | `decimal.Decimal`, `builtins.complex` | [`Value::Decimal`], [`Value::Complex`] |
//! | `collections.OrderedDict`, `defaultdict`, `Counter`, `deque` | [`Value::OrderedDict`], ... |
//! | `numpy.core.multiarray._reconstruct` and numpy 2's `numpy._core.multiarray._reconstruct` with `numpy.ndarray`, `numpy.dtype` and the array's `__setstate__` (`BUILD`); `numpy._core.numeric._frombuffer` (protocol 5) | [`Value::Array`]: bool, integer, float and complex dtypes, either byte order, C or Fortran order |
//! | `numpy._core.multiarray.scalar` (and `numpy.core...`) | [`Value::Scalar`] |
//!
//! Everything else is refused with the global's name and byte offset
//! ([`Error::PickleGlobal`]): `os.system`, `builtins.eval`, `subprocess.Popen`, object
//! arrays (`dtype('O')`, which carry further pickled objects), class instances (`INST`,
//! `OBJ`, `NEWOBJ`, a `BUILD` on anything but a numpy array or dtype), persistent ids and
//! extension codes. Also refused: nesting deeper than [`Limits::max_depth`], integers
//! longer than Python's own 4300-digit limit, truncated or trailing data, and decoding
//! that would allocate more than [`Limits::max_memory`] (every value is charged before it
//! is made; shared references stay shared, so a value used many times costs once).
//! Printing or converting a value charges its shared parts each time they appear, so a
//! 51-byte pickle that shares one tuple 2^23 times is refused there instead of printing
//! gigabytes.

mod decode;
mod json;
mod op;
mod repr;
mod scan;
mod value;
mod write;

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use json::{BYTES_KEY, Json, from_json};
pub use repr::{
    array_summary, bytes_repr, complex_repr, float_repr, repr, repr_with, scalar_repr, str_repr,
};
pub use scan::MAX_INT_DIGITS;
use scan::checked;
pub use value::{
    Array, BigInt, DType, Date, DateTime, Item, Kind, MAX_NDIM, Native, Time, TimeDelta, TimeZone,
    Value,
};

use crate::{Error, Limits, Result};

/// Reads one pickle from `bytes` into a [`Value`], with the rules of the module docs.
///
/// # Errors
/// [`Error::PickleGlobal`] for a global that is not allow-listed (its name and byte
/// offset), [`Error::Pickle`] for a malformed pickle, [`Error::TooLarge`] past
/// [`Limits::max_memory`], [`Error::TooDeep`] past [`Limits::max_depth`].
#[tracing::instrument(level = "debug", skip_all)]
pub fn from_slice(bytes: &[u8], limits: &Limits) -> Result<Value> {
    decode::decode(bytes, limits)
}

/// Reads one pickle of plain data (no allow-listed reconstructors besides those of
/// `bytes`, `bytearray`, `set` and `frozenset`) into any deserializable `T` (a `Vec<i64>`,
/// a struct, ...), through `serde-pickle`.
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
///
/// Typed values are written with the reconstructors the reader allows (`datetime`,
/// `decimal.Decimal`, `collections`, `numpy.core.multiarray._reconstruct`, ...), so the
/// file opens in Python (numpy needed for arrays) and here; shared values stay shared.
pub fn value_to_vec(value: &Value) -> Result<Vec<u8>> {
    write::write(value)
}

/// Reads the pickle file at `path` (at most `limits.max_len` bytes) into a [`Value`].
#[tracing::instrument(level = "debug", skip_all)]
pub fn load(path: &Path, limits: &Limits) -> Result<Value> {
    // The arrays share the file's bytes (the spare bytes let the largest one be aligned).
    let bytes = crate::store::read_bounded(path, limits.max_len, decode::MAX_SHIFT)?;
    decode::decode_file(bytes, limits).map_err(|err| err.in_file(path))
}

/// Reads the pickle file at `path` into a `T`.
pub fn load_as<T: DeserializeOwned>(path: &Path, limits: &Limits) -> Result<T> {
    let bytes = crate::store::read_bounded(path, limits.max_len, 0)?;
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
            assert_eq!(repr(&load(bytes).unwrap()).unwrap(), "[1, 2, 3, 5]");
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
                Ok(value) => assert_eq!(repr(&value).unwrap(), expected, "protocol {protocol}"),
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
            "bytearray(b'')",
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
            "bytearray(b'ab')",
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
            "[b'', bytearray(b''), bytearray(b'')]",
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
        // Shared, the tuples cost nothing to decode; printing them is refused.
        let value = load(&dup).unwrap();
        assert!(matches!(repr(&value), Err(Error::TooLarge { .. })));
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
        let text = r#"{"a": [1, 2.5, null, true], "b": {"$bytes": "00ff"}}"#;
        let value = from_json(text, &Limits::default()).unwrap();
        assert_eq!(
            repr(&value).unwrap(),
            "{'a': [1, 2.5, None, True], 'b': b'\\x00\\xff'}"
        );
        let back = serde_json::to_string(&Json::new(&value, &Limits::default()).unwrap()).unwrap();
        assert_eq!(back, text.replace(' ', ""));
        let pickled = value_to_vec(&value).unwrap();
        assert_eq!(load(&pickled).unwrap(), value);
    }

    #[test]
    fn nans_are_never_merged_as_keys_or_items() {
        // Python: `{float('nan'), float('nan')}` has two items (nan != nan), and so does this
        // dict; the reader merged NaNs of one bit pattern and the JSON reader refused them
        // as duplicates (found by the fuzz target).
        let set = b"\x80\x04\x95\x17\x00\x00\x00\x00\x00\x00\x00\x8f\x94(G\x7f\xf8\x00\x00\x00\x00\x00\x00G\x7f\xf8\x00\x00\x00\x00\x00\x00\x90.";
        let dict = b"\x80\x02}q\x00(G\x7f\xf8\x00\x00\x00\x00\x00\x00\x85q\x01K\x01G\x7f\xf8\x00\x00\x00\x00\x00\x00\x85q\x02K\x02u.";
        for (bytes, shown) in [
            (&set[..], "{nan, nan}"),
            (&dict[..], "{(nan,): 1, (nan,): 2}"),
        ] {
            let value = load(bytes).unwrap();
            assert_eq!(repr(&value).unwrap(), shown);
            let json =
                serde_json::to_string(&Json::new(&value, &Limits::default()).unwrap()).unwrap();
            let back = from_json(&json, &Limits::default()).unwrap();
            assert_eq!(repr(&back).unwrap(), shown, "{json}");
        }
    }

    #[test]
    fn json_of_shared_values_is_bounded_by_the_budget() {
        // 44 bytes: a None in a pair of itself 20 times over. Its expanded value fits the
        // budget, and its pretty JSON was 415 MB (indentation grows with depth); 22 levels
        // made 1.8 GB under the default limits.
        let mut bomb = b"\x80\x02N".to_vec();
        for _ in 0..20 {
            bomb.extend_from_slice(b"2\x86");
        }
        bomb.push(b'.');
        let value = load(&bomb).unwrap();
        let err = Json::new(&value, &Limits::default().with_max_memory(100 << 20)).unwrap_err();
        assert!(
            err.to_string()
                .contains("the JSON of the value would take more than"),
            "{err}"
        );
        // A budget that holds the JSON lets it through, and the JSON is within it.
        let small = &bomb[..3 + 2 * 8];
        let mut small = small.to_vec();
        small.push(b'.');
        let value = load(&small).unwrap();
        let limits = Limits::default().with_max_memory(1 << 20);
        let json = serde_json::to_string_pretty(&Json::new(&value, &limits).unwrap()).unwrap();
        assert!(
            json.len() < 1 << 20 && json.len() > 10_000,
            "{}",
            json.len()
        );
        let tight = Limits::default().with_max_memory(json.len() - 1);
        assert!(Json::new(&value, &tight).is_err());
    }

    #[test]
    fn arrays_numpy_cannot_make_are_refused() {
        // A shape of (0, 2**64 - 1) was accepted and written, and numpy refused the pickle.
        let json = |shape: &str| {
            format!(
                r#"{{"$ndarray": {{"dtype": "<f8", "shape": {shape}, "order": "C", "values": []}}}}"#
            )
        };
        for shape in ["[0, 18446744073709551615]", "[0, 9223372036854775807]"] {
            assert!(
                from_json(&json(shape), &Limits::default()).is_err(),
                "{shape}"
            );
        }
        let ok = from_json(&json("[0, 3]"), &Limits::default()).unwrap();
        assert!(
            matches!(&ok, Value::Array(a) if a.shape() == [0, 3]),
            "{ok:?}"
        );
    }
}
