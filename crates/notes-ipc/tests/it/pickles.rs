//! The pickles people have, written by python3 (and numpy) in protocols 2 to 5: read
//! through the allow-list, printed as Python prints them, converted to JSON and back, and
//! written back so that Python reads the same value; hostile ones refused, nothing run.

use notes_ipc::{Error, Limits, pickle};

use crate::python::{python, stdout};

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

fn load(bytes: &[u8]) -> notes_ipc::Result<pickle::Value> {
    pickle::from_slice(bytes, &Limits::default())
}

/// Two lines per value: `repr` of what Python reads back from its pickle in protocols 2 to
/// 5 (protocols 2 and 3 drop `fold`), tab-separated, then the pickles in hex.
const TYPED: &str = r#"
import datetime, decimal, collections, pickle
from datetime import timezone, timedelta
values = [
    datetime.datetime(2024, 10, 19, 8, 35, 12, 975783),
    datetime.datetime(2024, 10, 19, 8, 35),
    datetime.datetime(2024, 10, 19, 8, 35, 12),
    datetime.datetime(2024, 1, 1, tzinfo=timezone.utc),
    datetime.datetime(2024, 11, 3, 1, 30, fold=1),
    datetime.datetime(1, 1, 1), datetime.datetime(9999, 12, 31, 23, 59, 59, 999999),
    datetime.datetime(2024, 1, 1, 5, tzinfo=timezone(timedelta(hours=-5), 'EST')),
    datetime.datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30, seconds=7, microseconds=1))),
    datetime.date(2024, 2, 29), datetime.time(1, 2, 3, 4), datetime.time(0, 0),
    datetime.time(12, 0, tzinfo=timezone(timedelta(hours=2))),
    timedelta(days=-1, seconds=5), timedelta(0), timedelta(microseconds=-1), timedelta(days=999999999),
    timezone.utc, timezone(timedelta(0), 'UTC'), timezone(timedelta(hours=-23, minutes=-59)),
    decimal.Decimal('1.10'), decimal.Decimal('-0'), decimal.Decimal('1e3'), decimal.Decimal('NaN'),
    decimal.Decimal('-Infinity'), decimal.Decimal('0.0000001'), decimal.Decimal('123456789012345678901234567890.5'),
    complex(1, 2), 2j, complex(-0.0, -1), complex(1.5, float('inf')), complex(1e20, -1e-20), complex(0, 0),
    collections.OrderedDict(), collections.OrderedDict(b=1, a=2),
    collections.defaultdict(list, {'a': [1]}), collections.defaultdict(None), collections.defaultdict(int, {3: 4}),
    collections.defaultdict(collections.Counter),
    collections.Counter('abracadabra'), collections.Counter(), collections.Counter({'x': 1, 'y': 3, 'z': 3}),
    collections.Counter({'a': 1.5, 'b': -2}),
    collections.deque([1, 2, 3]), collections.deque(), collections.deque([1, 2, 3, 4], maxlen=3),
    collections.deque([], maxlen=0),
    {'z': 1, 'a': 2, 3: 'three', (1, 2): 'tuple', None: 0, 2.5: 'f'},
    [datetime.date(2024, 1, 1), {'nested': collections.deque([decimal.Decimal('2.5')])}],
    {1, 2, 3}, frozenset({'a'}), bytearray(b'\x00ab'), b'\xff', 'é', 2**100, -2**63 - 1, 1e300, float('inf'),
]
for v in values:
    print('\t'.join(repr(pickle.loads(pickle.dumps(v, protocol=p))) for p in range(2, 6)))
    print(' '.join(pickle.dumps(v, protocol=p).hex() for p in range(2, 6)))
"#;

#[test]
fn typed_values_read_as_python_prints_them_in_protocols_2_to_5() {
    let Some(out) = python(TYPED, &[]) else {
        return;
    };
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 100, "{text}");
    for pair in lines.chunks(2) {
        let (reprs, pickles) = (pair[0], pair[1]);
        for ((i, hex), expected) in pickles.split(' ').enumerate().zip(reprs.split('\t')) {
            let protocol = i + 2;
            let value = load(&unhex(hex))
                .unwrap_or_else(|err| panic!("{expected} (protocol {protocol}): {err}"));
            let shown = pickle::repr(&value).expect("repr");
            assert_eq!(shown, expected, "protocol {protocol}");
            // JSON and back, and pickle and back, are exact.
            let json = serde_json::to_string(
                &pickle::Json::new(&value, &Limits::default()).expect("json"),
            )
            .expect("json");
            let back = pickle::from_json(&json, &Limits::default())
                .unwrap_or_else(|err| panic!("{expected}: {json}: {err}"));
            assert_eq!(pickle::repr(&back).expect("repr"), expected, "{json}");
            let again = load(&pickle::value_to_vec(&value).expect("write")).expect("read back");
            assert_eq!(pickle::repr(&again).expect("repr"), expected);
        }
    }
}

#[test]
fn python_reads_the_typed_values_we_write() {
    // Python pickles the values, we read and write them again, Python compares.
    let script = format!("{TYPED}\nimport sys\nsys.stdout.flush()\n");
    let Some(out) = python(&script, &[]) else {
        return;
    };
    let text = stdout(&out);
    let ours: Vec<String> = text
        .lines()
        .collect::<Vec<_>>()
        .chunks(2)
        .map(|pair| {
            let hex = pair[1].split(' ').nth(2).expect("protocol 4");
            let value = load(&unhex(hex)).expect("read");
            let bytes = pickle::value_to_vec(&value).expect("write");
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect();
    let check = format!(
        "{TYPED}\nimport sys\nours = sys.argv[1].split(',')\nbad = [(repr(v), repr(pickle.loads(bytes.fromhex(h)))) for v, h in zip(values, ours) if repr(pickle.loads(bytes.fromhex(h))) != repr(v) or type(pickle.loads(bytes.fromhex(h))) is not type(v)]\nprint(len(ours), bad)"
    );
    let Some(out) = python(&check, &[&ours.join(",")]) else {
        return;
    };
    let text = stdout(&out);
    let last = text.lines().last().expect("a result line");
    let (count, rest) = last.split_once(' ').expect("count and mismatches");
    assert_eq!(rest, "[]", "{count} values, mismatches: {rest}");
}

const ARRAYS: &str = r#"
import numpy as np, pickle, json, sys
cases = []
for code in ['?', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'f2', 'f4', 'f8', 'c8', 'c16']:
    for order in '<>':
        dt = np.dtype(code).newbyteorder(order) if np.dtype(code).itemsize > 1 else np.dtype(code)
        base = np.arange(6).reshape(2, 3)
        if dt.kind == 'b':
            a = (base % 2 == 0)
        elif dt.kind in 'iu':
            a = base * 7 + (1 if dt.kind == 'u' else -20)
        elif dt.kind == 'c':
            a = base * 0.5 - 1 + 1j * base
        else:
            a = base * 0.5 - 1
        a = a.astype(dt)
        cases.append(a)
        cases.append(np.asfortranarray(a))
cases += [np.zeros((0, 3)), np.array(3.5), np.arange(24, dtype='<i2').reshape(2, 3, 4), np.asfortranarray(np.arange(24.).reshape(2, 3, 4))]
def tolist(x):
    if isinstance(x, list): return [tolist(i) for i in x]
    if isinstance(x, complex): return [x.real, x.imag]
    return x
for a in cases:
    print(json.dumps({'dtype': a.dtype.str, 'shape': list(a.shape), 'order': 'F' if a.flags.f_contiguous and not a.flags.c_contiguous else 'C', 'values': tolist(a.tolist())}))
    print(' '.join(pickle.dumps(a, protocol=p).hex() for p in range(2, 6)))
"#;

#[test]
fn numpy_arrays_of_every_numeric_dtype_byte_order_and_memory_order() {
    let Some(out) = python(ARRAYS, &[]) else {
        return;
    };
    let text = stdout(&out);
    for pair in text.lines().collect::<Vec<_>>().chunks(2) {
        let expected: serde_json::Value = serde_json::from_str(pair[0]).expect("json");
        for (i, hex) in pair[1].split(' ').enumerate() {
            let value = load(&unhex(hex))
                .unwrap_or_else(|err| panic!("{expected} protocol {}: {err}", i + 2));
            let pickle::Value::Array(array) = &value else {
                panic!("{expected}: not an array: {value:?}");
            };
            let json =
                serde_json::to_value(pickle::Json::new(&value, &Limits::default()).expect("json"))
                    .expect("json");
            let mut got = json["$ndarray"].clone();
            // numpy calls 1-D and 0-D arrays both C and F contiguous; the reader keeps
            // what the pickle said, which is C for them.
            if array.shape().iter().filter(|&&d| d > 1).count() <= 1 {
                got["order"] = "C".into();
            }
            assert_eq!(got, expected, "protocol {}", i + 2);
            // Back through JSON and a pickle: the same array.
            let text = serde_json::to_string(&json).expect("json");
            let back = pickle::from_json(&text, &Limits::default()).expect("from json");
            assert_eq!(back, value, "{text}");
            assert_eq!(
                load(&pickle::value_to_vec(&value).expect("write")).expect("read"),
                value
            );
        }
    }
}

#[test]
fn numpy_scalars_print_as_numpy_does() {
    let script = r#"
import numpy as np, pickle
for x in [np.float64(1.5), np.float64(1e16), np.float32(0.1), np.float16(0.1), np.int8(-3), np.uint64(2**64 - 1),
          np.int64(7), np.True_, np.False_, np.complex128(1 + 2j), np.complex64(0.5 - 1j), np.float64('nan')]:
    print(repr(x))
    print(' '.join(pickle.dumps(x, protocol=p).hex() for p in range(2, 6)))
"#;
    let Some(out) = python(script, &[]) else {
        return;
    };
    let text = stdout(&out);
    for pair in text.lines().collect::<Vec<_>>().chunks(2) {
        for hex in pair[1].split(' ') {
            let value = load(&unhex(hex)).unwrap_or_else(|err| panic!("{}: {err}", pair[0]));
            assert_eq!(pickle::repr(&value).expect("repr"), pair[0]);
        }
    }
}

#[test]
fn hostile_pickles_are_refused_by_name_and_offset_and_nothing_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("ran");
    let script = r#"
import pickle, os, sys, subprocess, builtins, numpy as np, codecs
marker = sys.argv[1]
class R:
    def __init__(self, f, args): self.f, self.args = f, args
    def __reduce__(self): return (self.f, self.args)
class User:
    pass
cases = [
    ('posix.system', R(os.system, ('touch ' + marker,))),
    ('builtins.eval', R(eval, ("open(%r, 'w')" % marker,))),
    ('builtins.exec', R(exec, ("open(%r, 'w')" % marker,))),
    ('builtins.getattr', R(getattr, ('x', 'upper'))),
    ('builtins.__import__', R(__import__, ('os',))),
    ('subprocess.Popen', R(subprocess.Popen, (['touch', marker],))),
    ('subprocess.check_output', R(subprocess.check_output, (['touch', marker],))),
    ('builtins.open', R(open, (marker, 'w'))),
    ('__main__.User', User()),
    ("numpy.dtype('O')", np.array([1, 'a'], dtype=object)),
    ('utf-8', R(codecs.encode, ('é', 'utf-8'))),
]
for name, obj in cases:
    for p in range(2, 6):
        print(name + '\t' + pickle.dumps(obj, protocol=p).hex())
"#;
    let Some(out) = python(script, &[marker.to_str().expect("utf-8")]) else {
        return;
    };
    let text = stdout(&out);
    let mut count = 0;
    for line in text.lines() {
        let (name, hex) = line.split_once('\t').expect("name and hex");
        let err = load(&unhex(hex)).expect_err(name);
        let message = err.to_string();
        // Protocol 2 writes Python 2's module names (`__builtin__.eval`, `commands.Popen`).
        let short = name.rsplit_once('.').map_or(name, |(_, short)| short);
        assert!(message.contains(short), "{name}: {message}");
        assert!(message.contains("at byte"), "{name}: {message}");
        if name == "utf-8" {
            assert!(message.contains("latin-1"), "{message}");
        } else {
            assert!(matches!(err, Error::PickleGlobal { .. }), "{name}: {err:?}");
        }
        count += 1;
    }
    assert_eq!(count, 44);
    assert!(!marker.exists(), "a pickle ran code");
}

#[test]
fn latin1_codecs_encode_is_exact() {
    // Protocol 2's bytes: `_codecs.encode('\xe9', 'latin1')` is b'\xe9'; a character past
    // U+00FF has no latin-1 byte and is an error, not a silent truncation.
    let ok = b"\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xa9X\x06\x00\x00\x00latin1\x86R.";
    assert_eq!(pickle::repr(&load(ok).unwrap()).unwrap(), "b'\\xe9'");
    let wide = b"\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00\xc4\x80X\x06\x00\x00\x00latin1\x86R.";
    assert!(
        load(wide)
            .unwrap_err()
            .to_string()
            .contains("cannot encode")
    );
    let utf8 = b"\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xa9X\x05\x00\x00\x00utf-8\x86R.";
    let err = load(utf8).unwrap_err().to_string();
    assert!(
        err.contains("\"utf-8\"") && err.contains("at byte"),
        "{err}"
    );
}

#[test]
fn json_conversions_are_exact_or_errors() {
    let limits = Limits::default();
    // {1: 'a', '1': 'c'}: no duplicate JSON keys, and both keys come back.
    let value = load(b"\x80\x04}\x94(K\x01\x8c\x01a\x8c\x011\x8c\x01cu.").unwrap();
    let json = serde_json::to_string(&pickle::Json::new(&value, &limits).unwrap()).unwrap();
    assert_eq!(json, r#"{"$dict":[[1,"a"],["1","c"]]}"#);
    assert_eq!(pickle::from_json(&json, &limits).unwrap(), value);
    // A dict that looks like a marker stays a dict.
    let value = load(b"\x80\x04}\x94\x8c\x06$bytes\x8c\x0400ffs.").unwrap();
    let json = serde_json::to_string(&pickle::Json::new(&value, &limits).unwrap()).unwrap();
    assert_eq!(
        pickle::repr(&pickle::from_json(&json, &limits).unwrap()).unwrap(),
        "{'$bytes': '00ff'}"
    );
    // Integers of any size, floats that are not JSON numbers, unknown markers.
    let big = pickle::from_json("[123456789012345678901234567890, -1e400]", &limits);
    assert!(big.unwrap_err().to_string().contains("-1e400"));
    let big = pickle::from_json(
        "[123456789012345678901234567890, {\"$float\": \"-inf\"}, 1.0, 1]",
        &limits,
    )
    .unwrap();
    assert_eq!(
        pickle::repr(&big).unwrap(),
        "[123456789012345678901234567890, -inf, 1.0, 1]"
    );
    assert!(
        pickle::from_json(r#"{"$ref": 1}"#, &limits)
            .unwrap_err()
            .to_string()
            .contains("$dict")
    );
    assert!(
        pickle::from_json(r#"{"a": 1, "a": 2}"#, &limits)
            .unwrap_err()
            .to_string()
            .contains("duplicate")
    );
    // Keys Python could not use, or would merge (1 and True are one key), are errors.
    let err = pickle::from_json(r#"{"$Counter": [[["c", 2], 1]]}"#, &limits).unwrap_err();
    assert!(err.to_string().contains("unhashable"), "{err}");
    let err = pickle::from_json(r#"{"$dict": [[1, "a"], [true, "b"]]}"#, &limits).unwrap_err();
    assert!(err.to_string().contains("duplicate"), "{err}");
    let err = pickle::from_json(r#"{"$set": [1, 1.0]}"#, &limits).unwrap_err();
    assert!(err.to_string().contains("duplicate"), "{err}");
    // An offset of a day or more is no `datetime.timezone` (found by fuzzing).
    assert!(pickle::from_json(r#"{"$time": "01:03:03.200804+84:00"}"#, &limits).is_err());
    assert!(pickle::from_json(r#"{"$datetime": "2024-01-01T00:00:00-24:00"}"#, &limits).is_err());
    // A dtype whose first character is not ASCII is an error, not a panic (found by fuzzing).
    let err = pickle::from_json(
        r#"{"$ndarray": {"dtype": "ęf4", "shape": [0], "values": []}}"#,
        &limits,
    );
    assert!(err.unwrap_err().to_string().contains("dtype"));
    // A float32 array cannot hold 0.1 exactly: an error, not a rounded value.
    let err = pickle::from_json(
        r#"{"$ndarray": {"dtype": "<f4", "shape": [1], "values": [0.1]}}"#,
        &limits,
    );
    assert!(err.unwrap_err().to_string().contains("exactly"));
}

#[test]
fn bombs_are_bounded() {
    let limits = Limits::default();
    // 50 bytes, 23 levels of DUP + TUPLE2: shared, it decodes to 23 tuples; printed or
    // converted, it would be 2^23 `None`s, so both are refused.
    let bomb = [b"\x80\x02N".to_vec(), b"2\x86".repeat(23), b".".to_vec()].concat();
    assert!(bomb.len() <= 51);
    let value = load(&bomb).unwrap();
    assert!(matches!(pickle::repr(&value), Err(Error::TooLarge { .. })));
    assert!(matches!(
        pickle::Json::new(&value, &limits),
        Err(Error::TooLarge { .. })
    ));
    // Written back, it stays shared (and small).
    assert!(pickle::value_to_vec(&value).unwrap().len() < 300);
    // 16 MiB of `N`: refused when the budget runs out, long before 16 M values exist.
    let nones = [
        b"\x80\x04](".to_vec(),
        vec![b'N'; (16 << 20) - 6],
        b"e.".to_vec(),
    ]
    .concat();
    let err = load(&nones).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    // The same within a larger budget decodes.
    let small = [b"\x80\x04](".to_vec(), vec![b'N'; 1000], b"e.".to_vec()].concat();
    assert!(load(&small).is_ok());
}

#[test]
fn an_array_of_no_data_but_endless_rows_is_not_printed() {
    let script = "import pickle, sys, numpy as np\nsys.stdout.write(pickle.dumps(np.empty((10**18, 0)), protocol=4).hex())";
    let Some(out) = python(script, &[]) else {
        return;
    };
    let value = load(&unhex(stdout(&out).trim())).expect("read");
    assert!(matches!(pickle::repr(&value), Err(Error::TooLarge { .. })));
    assert!(pickle::Json::new(&value, &Limits::default()).is_err());
}

#[test]
fn copies_through_the_memo_are_charged() {
    // One list of 100,000 items, then `set(list)` called 100 times through the memo: each
    // call copies the list, so the budget runs out instead of the memory.
    let mut bytes = b"\x80\x04](".to_vec();
    bytes.extend(std::iter::repeat_n(b"K\x01".as_slice(), 100_000).flatten());
    bytes.extend_from_slice(b"e\x94\x85\x94\x8c\x08builtins\x8c\x03set\x93\x94]");
    for _ in 0..100 {
        bytes.extend_from_slice(b"h\x02h\x01Ra");
    }
    bytes.push(b'.');
    let small = Limits::default().with_max_memory(64 << 20);
    let err = pickle::from_slice(&bytes, &small).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    // An array is unhashable, as in numpy.
    let script = "import pickle, sys, numpy as np\nsys.stdout.write(pickle.dumps(np.zeros(2), protocol=4).hex())";
    if let Some(out) = python(script, &[]) {
        let array = unhex(stdout(&out).trim());
        let mut dict = b"\x80\x04}".to_vec();
        dict.extend_from_slice(&array[11..array.len() - 1]);
        dict.extend_from_slice(b"Ns.");
        let err = load(&dict).unwrap_err().to_string();
        assert!(err.contains("unhashable"), "{err}");
    }
}

#[test]
fn deep_values_convert_to_json_and_back() {
    // 120 nested tuples: within the 128 levels of the reader, and 240 levels as JSON markers.
    let mut bytes = b"\x80\x04N".to_vec();
    bytes.extend(std::iter::repeat_n(0x85u8, 120));
    bytes.push(b'.');
    let value = load(&bytes).expect("120 levels");
    let json =
        serde_json::to_string(&pickle::Json::new(&value, &Limits::default()).unwrap()).unwrap();
    let back = pickle::from_json(&json, &Limits::default()).expect("the JSON reads back");
    assert_eq!(back, value);
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    assert!(matches!(
        pickle::from_json(&deep, &Limits::default()),
        Err(Error::TooDeep { .. })
    ));
}

/// A file's largest array shares the file's bytes and is aligned for its items wherever it
/// starts in the file, so that readers view it in place instead of copying it (issue 19: a
/// 100 MB array shown in about the file's size of memory); other byte orders convert.
#[test]
fn a_loaded_array_is_viewed_in_place_wherever_it_starts_in_the_file() {
    use std::sync::Arc;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a.pkl");
    let items: Vec<f64> = (0..1 << 18).map(|i| f64::from(i) * 0.5).collect();
    for (code, big) in [("<f8", false), (">f8", true)] {
        let data: Vec<u8> = items
            .iter()
            .flat_map(|x| {
                if big {
                    x.to_be_bytes()
                } else {
                    x.to_le_bytes()
                }
            })
            .collect();
        let dtype = pickle::DType::from_str_code(code).expect("dtype");
        let array = pickle::Array::new(dtype, vec![items.len()], false, &data).expect("array");
        for pad in 0..8 {
            let value = pickle::Value::Tuple(Arc::new(vec![
                pickle::Value::Str("x".repeat(pad).into()),
                pickle::Value::Array(Arc::new(array.clone())),
            ]));
            std::fs::write(&path, pickle::value_to_vec(&value).expect("write")).expect("save");
            let loaded = pickle::load(&path, &Limits::default()).expect("load");
            let pickle::Value::Tuple(loaded) = loaded else {
                panic!("not a tuple: {loaded:?}");
            };
            let pickle::Value::Array(loaded) = &loaded[1] else {
                panic!("not an array");
            };
            let native = big == cfg!(target_endian = "big");
            assert_eq!(
                loaded.as_slice::<f64>(),
                native.then_some(&items[..]),
                "{code}, {pad} bytes before"
            );
            assert!(loaded.as_slice::<i64>().is_none() && loaded.to_vec::<f32>().is_none());
            assert_eq!(loaded.to_vec::<f64>().as_deref(), Some(&items[..]));
        }
    }
}
