//! Writes a [`Value`] as a protocol-3 pickle that Python's `pickle.load` reads, with the
//! same reconstructors the reader allows (so what this writes reads back here too).

use std::collections::HashMap;
use std::sync::Arc;

use super::op;
use super::value::{Array, DType, Time, TimeDelta, TimeZone, Value};
use crate::{Error, Result};

struct Writer {
    out: Vec<u8>,
    /// Shared containers already written, by address: written once, then `BINGET`.
    memo: HashMap<usize, u32>,
}

/// Writes `value` as a protocol-3 pickle. Values shared in `value` stay shared.
pub(super) fn write(value: &Value) -> Result<Vec<u8>> {
    let mut w = Writer {
        out: vec![op::PROTO, 3],
        memo: HashMap::new(),
    };
    w.value(value)?;
    w.out.push(op::STOP);
    Ok(w.out)
}

impl Writer {
    fn global(&mut self, module: &str, name: &str) {
        self.out.push(op::GLOBAL);
        self.out.extend_from_slice(module.as_bytes());
        self.out.push(b'\n');
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'\n');
    }

    fn int(&mut self, i: i64) {
        if (0..=0xff).contains(&i) {
            self.out.extend_from_slice(&[op::BININT1, i as u8]);
        } else if (0..=0xffff).contains(&i) {
            self.out.push(op::BININT2);
            self.out.extend_from_slice(&(i as u16).to_le_bytes());
        } else if let Ok(small) = i32::try_from(i) {
            self.out.push(op::BININT);
            self.out.extend_from_slice(&small.to_le_bytes());
        } else {
            self.long(&num_bigint::BigInt::from(i));
        }
    }

    fn long(&mut self, i: &num_bigint::BigInt) {
        let bytes = i.to_signed_bytes_le();
        if bytes.len() < 256 {
            self.out.extend_from_slice(&[op::LONG1, bytes.len() as u8]);
        } else {
            self.out.push(op::LONG4);
            self.out
                .extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        }
        self.out.extend_from_slice(&bytes);
    }

    fn float(&mut self, f: f64) {
        self.out.push(op::BINFLOAT);
        self.out.extend_from_slice(&f.to_be_bytes());
    }

    fn str(&mut self, s: &str) -> Result<()> {
        let len = u32::try_from(s.len())
            .map_err(|_| Error::Encode("a string of 4 GiB or more needs protocol 4".into()))?;
        self.out.push(op::BINUNICODE);
        self.out.extend_from_slice(&len.to_le_bytes());
        self.out.extend_from_slice(s.as_bytes());
        Ok(())
    }

    fn bytes(&mut self, b: &[u8]) -> Result<()> {
        if b.len() < 256 {
            self.out
                .extend_from_slice(&[op::SHORT_BINBYTES, b.len() as u8]);
        } else {
            let len = u32::try_from(b.len())
                .map_err(|_| Error::Encode("bytes of 4 GiB or more need protocol 4".into()))?;
            self.out.push(op::BINBYTES);
            self.out.extend_from_slice(&len.to_le_bytes());
        }
        self.out.extend_from_slice(b);
        Ok(())
    }

    fn tuple(&mut self, items: &[Value]) -> Result<()> {
        match items.len() {
            0 => self.out.push(op::EMPTY_TUPLE),
            1..=3 => {
                for item in items {
                    self.value(item)?;
                }
                self.out.push(op::TUPLE1 + items.len() as u8 - 1);
            }
            _ => {
                self.out.push(op::MARK);
                for item in items {
                    self.value(item)?;
                }
                self.out.push(op::TUPLE);
            }
        }
        Ok(())
    }

    fn appends(&mut self, items: &[Value]) -> Result<()> {
        for chunk in items.chunks(1000) {
            self.out.push(op::MARK);
            for item in chunk {
                self.value(item)?;
            }
            self.out.push(op::APPENDS);
        }
        Ok(())
    }

    fn setitems(&mut self, pairs: &[(Value, Value)]) -> Result<()> {
        for chunk in pairs.chunks(1000) {
            self.out.push(op::MARK);
            for (k, v) in chunk {
                self.value(k)?;
                self.value(v)?;
            }
            self.out.push(op::SETITEMS);
        }
        Ok(())
    }

    fn timedelta(&mut self, d: &TimeDelta) {
        self.global("datetime", "timedelta");
        self.int(d.days.into());
        self.int(d.seconds.into());
        self.int(d.microseconds.into());
        self.out.extend_from_slice(&[op::TUPLE3, op::REDUCE]);
    }

    fn timezone(&mut self, tz: &TimeZone) -> Result<()> {
        self.global("datetime", "timezone");
        self.timedelta(&tz.offset);
        match &tz.name {
            Some(name) => {
                self.str(name)?;
                self.out.push(op::TUPLE2);
            }
            None => self.out.push(op::TUPLE1),
        }
        self.out.push(op::REDUCE);
        Ok(())
    }

    fn time_state(t: &Time) -> [u8; 6] {
        let us = t.microsecond;
        [
            t.hour | if t.fold { 0x80 } else { 0 },
            t.minute,
            t.second,
            (us >> 16) as u8,
            (us >> 8) as u8,
            us as u8,
        ]
    }

    fn with_tz(&mut self, tz: Option<&Arc<TimeZone>>) -> Result<()> {
        match tz {
            Some(tz) => {
                self.timezone(tz)?;
                self.out.push(op::TUPLE2);
            }
            None => self.out.push(op::TUPLE1),
        }
        self.out.push(op::REDUCE);
        Ok(())
    }

    fn dtype(&mut self, dtype: DType) {
        self.global("numpy", "dtype");
        let code = dtype.str_code();
        let _ = self.str(&code[1..]);
        self.out
            .extend_from_slice(&[op::NEWFALSE, op::NEWTRUE, op::TUPLE3, op::REDUCE]);
        self.out.push(op::MARK);
        self.int(3);
        let _ = self.str(&code[..1]);
        self.out.extend_from_slice(&[op::NONE, op::NONE, op::NONE]);
        self.int(-1);
        self.int(-1);
        self.int(0);
        self.out.extend_from_slice(&[op::TUPLE, op::BUILD]);
    }

    fn array(&mut self, array: &Array) -> Result<()> {
        self.global("numpy.core.multiarray", "_reconstruct");
        self.global("numpy", "ndarray");
        self.int(0);
        self.out.push(op::TUPLE1);
        self.bytes(b"b")?;
        self.out.extend_from_slice(&[op::TUPLE3, op::REDUCE]);
        self.out.push(op::MARK);
        self.int(1);
        let shape: Vec<Value> = array
            .shape()
            .iter()
            .map(|&d| Value::Int(d as i64))
            .collect();
        self.tuple(&shape)?;
        self.dtype(array.dtype());
        self.out.push(if array.is_fortran() {
            op::NEWTRUE
        } else {
            op::NEWFALSE
        });
        self.bytes(array.data())?;
        self.out.extend_from_slice(&[op::TUPLE, op::BUILD]);
        Ok(())
    }

    fn value(&mut self, value: &Value) -> Result<()> {
        let shared = match value {
            Value::List(v)
            | Value::Tuple(v)
            | Value::Set(v)
            | Value::FrozenSet(v)
            | Value::Deque(v, _) => Some(Arc::as_ptr(v) as usize),
            Value::Dict(v)
            | Value::OrderedDict(v)
            | Value::Counter(v)
            | Value::DefaultDict(_, v) => Some(Arc::as_ptr(v) as usize),
            Value::Array(a) => Some(Arc::as_ptr(a) as usize),
            _ => None,
        };
        if let Some(index) = shared.and_then(|key| self.memo.get(&key)) {
            let index = *index;
            self.out.push(op::LONG_BINGET);
            self.out.extend_from_slice(&index.to_le_bytes());
            return Ok(());
        }
        match value {
            Value::None => self.out.push(op::NONE),
            Value::Bool(b) => self.out.push(if *b { op::NEWTRUE } else { op::NEWFALSE }),
            Value::Int(i) => self.int(*i),
            Value::BigInt(i) => self.long(i),
            Value::Float(f) => self.float(*f),
            Value::Str(s) => self.str(s)?,
            Value::Bytes(b) => self.bytes(b)?,
            Value::ByteArray(b) => {
                self.global("builtins", "bytearray");
                self.bytes(b)?;
                self.out.extend_from_slice(&[op::TUPLE1, op::REDUCE]);
            }
            Value::List(items) => {
                self.out.push(op::EMPTY_LIST);
                self.appends(items)?;
            }
            Value::Tuple(items) => self.tuple(items)?,
            Value::Set(items) | Value::FrozenSet(items) => {
                let name = if matches!(value, Value::Set(_)) {
                    "set"
                } else {
                    "frozenset"
                };
                self.global("builtins", name);
                self.out.push(op::EMPTY_LIST);
                self.appends(items)?;
                self.out.extend_from_slice(&[op::TUPLE1, op::REDUCE]);
            }
            Value::Dict(pairs) => {
                self.out.push(op::EMPTY_DICT);
                self.setitems(pairs)?;
            }
            Value::DateTime(dt) => {
                self.global("datetime", "datetime");
                let d = dt.date;
                let [y0, y1] = d.year.to_be_bytes();
                let mut state = vec![y0, y1, d.month | if dt.time.fold { 0x80 } else { 0 }, d.day];
                let mut t = Self::time_state(&dt.time);
                t[0] &= 0x7f;
                state.extend_from_slice(&t);
                self.bytes(&state)?;
                self.with_tz(dt.time.tz.as_ref())?;
            }
            Value::Date(d) => {
                self.global("datetime", "date");
                let [y0, y1] = d.year.to_be_bytes();
                self.bytes(&[y0, y1, d.month, d.day])?;
                self.with_tz(None)?;
            }
            Value::Time(t) => {
                self.global("datetime", "time");
                self.bytes(&Self::time_state(t))?;
                self.with_tz(t.tz.as_ref())?;
            }
            Value::TimeDelta(d) => self.timedelta(d),
            Value::TimeZone(tz) => self.timezone(tz)?,
            Value::Decimal(text) => {
                self.global("decimal", "Decimal");
                self.str(text)?;
                self.out.extend_from_slice(&[op::TUPLE1, op::REDUCE]);
            }
            Value::Complex(re, im) => {
                self.global("builtins", "complex");
                self.float(*re);
                self.float(*im);
                self.out.extend_from_slice(&[op::TUPLE2, op::REDUCE]);
            }
            Value::OrderedDict(pairs) => {
                self.global("collections", "OrderedDict");
                self.out.extend_from_slice(&[op::EMPTY_TUPLE, op::REDUCE]);
                self.setitems(pairs)?;
            }
            Value::Counter(pairs) => {
                self.global("collections", "Counter");
                self.out.push(op::EMPTY_DICT);
                self.setitems(pairs)?;
                self.out.extend_from_slice(&[op::TUPLE1, op::REDUCE]);
            }
            Value::DefaultDict(factory, pairs) => {
                self.global("collections", "defaultdict");
                match factory.as_deref() {
                    None => self.out.push(op::NONE),
                    Some(name) => match name.split_once('.') {
                        Some((module, class)) => self.global(module, class),
                        None => self.global("builtins", name),
                    },
                }
                self.out.extend_from_slice(&[op::TUPLE1, op::REDUCE]);
                self.setitems(pairs)?;
            }
            Value::Deque(items, maxlen) => {
                self.global("collections", "deque");
                match maxlen {
                    None => self.out.push(op::EMPTY_TUPLE),
                    Some(max) => {
                        self.out.push(op::EMPTY_TUPLE);
                        self.long(&num_bigint::BigInt::from(*max));
                        self.out.push(op::TUPLE2);
                    }
                }
                self.out.push(op::REDUCE);
                self.appends(items)?;
            }
            Value::Array(array) => self.array(array)?,
            Value::Scalar(array) => {
                self.global("numpy.core.multiarray", "scalar");
                self.dtype(array.dtype());
                self.bytes(array.data())?;
                self.out.extend_from_slice(&[op::TUPLE2, op::REDUCE]);
            }
        }
        if let Some(key) = shared {
            let index = self.memo.len() as u32;
            self.out.push(op::LONG_BINPUT);
            self.out.extend_from_slice(&index.to_le_bytes());
            self.memo.insert(key, index);
        }
        Ok(())
    }
}
