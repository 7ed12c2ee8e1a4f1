//! Python's `marshal` format, as far as profile files need it: a bounded reader of every
//! version CPython 3.8–3.14 writes (0 to 5, with `FLAG_REF` back-references), and a writer.
//!
//! The reader never trusts a length: every count is checked against the bytes left in the
//! input before anything is allocated, nesting is limited, and a back-reference must point to
//! an object already complete (a container cannot contain itself). Values are shared through
//! `Rc`, so a file that references one object many times costs no more memory than the file.

use std::io::Read;
use std::rc::Rc;

/// How deeply containers may nest. A stats file needs 4 levels (dict, tuple, dict, tuple);
/// CPython allows 2000, which a reader on a small thread stack should not.
pub(crate) const MAX_DEPTH: usize = 64;

const FLAG_REF: u8 = 0x80;

/// A decoded marshal object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    None,
    Bool(bool),
    StopIteration,
    Ellipsis,
    /// An int that fits in i64.
    Int(i64),
    /// An int that does not fit in i64 (its value is not kept).
    BigInt,
    Float(f64),
    Complex,
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Tuple(Rc<[Value]>),
    List(Rc<[Value]>),
    /// Pairs in the file's order (duplicate keys are kept; the caller decides).
    Dict(Rc<[(Value, Value)]>),
    Set(Rc<[Value]>),
    Slice,
}

impl Value {
    /// The Python type name, for error messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::StopIteration => "StopIteration",
            Value::Ellipsis => "Ellipsis",
            Value::Int(_) | Value::BigInt => "int",
            Value::Float(_) => "float",
            Value::Complex => "complex",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::Slice => "slice",
        }
    }
}

/// Why a marshal stream could not be read: a message and the byte offset where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MarshalError {
    pub(crate) offset: u64,
    pub(crate) why: String,
    /// The input went on up to the size limit (rather than being damaged before it).
    pub(crate) limit_reached: bool,
}

type R<T> = std::result::Result<T, MarshalError>;

/// Reads one marshal object from `input`, consuming at most `limit` bytes.
pub(crate) struct Reader<I> {
    input: I,
    /// Bytes consumed so far.
    offset: u64,
    limit: u64,
    refs: Vec<Option<Value>>,
    depth: usize,
}

impl<I: Read> Reader<I> {
    pub(crate) fn new(input: I, limit: u64) -> Self {
        Self {
            input,
            offset: 0,
            limit,
            refs: Vec::new(),
            depth: 0,
        }
    }

    /// Bytes consumed so far.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The input, positioned after the object read.
    pub(crate) fn into_inner(self) -> I {
        self.input
    }

    fn err<T>(&self, why: impl Into<String>) -> R<T> {
        Err(MarshalError {
            offset: self.offset,
            why: why.into(),
            limit_reached: false,
        })
    }

    fn left(&self) -> u64 {
        self.limit.saturating_sub(self.offset)
    }

    fn bytes(&mut self, n: u64) -> R<Vec<u8>> {
        if n > self.left() {
            return self.err(format!(
                "an object announces {n} bytes, more than the {} left within the size limit of {} bytes",
                self.left(),
                self.limit
            ));
        }
        // Grows with the data actually there: a short file claiming a long string allocates little.
        let mut buf = Vec::with_capacity(n.min(1 << 16) as usize);
        let got = (&mut self.input)
            .take(n)
            .read_to_end(&mut buf)
            .map_err(|e| MarshalError {
                offset: self.offset,
                why: format!("read error: {e}"),
                limit_reached: false,
            })?;
        if (got as u64) < n {
            self.offset += got as u64;
            return self.err(format!("truncated: {n} bytes expected, {got} left"));
        }
        self.offset += n;
        Ok(buf)
    }

    fn array<const N: usize>(&mut self) -> R<[u8; N]> {
        let mut a = [0u8; N];
        if (N as u64) > self.left() {
            return Err(MarshalError {
                offset: self.offset,
                why: format!(
                    "the input goes on past the size limit of {} bytes",
                    self.limit
                ),
                limit_reached: true,
            });
        }
        match self.input.read_exact(&mut a) {
            Ok(()) => {
                self.offset += N as u64;
                Ok(a)
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                self.err(format!("truncated: {N} bytes expected"))
            }
            Err(e) => self.err(format!("read error: {e}")),
        }
    }

    fn byte(&mut self) -> R<u8> {
        Ok(self.array::<1>()?[0])
    }

    fn i32(&mut self) -> R<i32> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    /// A length: a non-negative i32 that must also fit in what is left of the input, counting
    /// at least `min_each` bytes per item.
    fn len(&mut self, what: &str, min_each: u64) -> R<u64> {
        let n = self.i32()?;
        if n < 0 {
            return self.err(format!("negative {what} length {n}"));
        }
        let n = n as u64;
        if n.saturating_mul(min_each) > self.left() {
            return self.err(format!(
                "{what} of {n} items cannot fit in the {} bytes left within the size limit",
                self.left()
            ));
        }
        Ok(n)
    }

    fn utf8(&self, bytes: Vec<u8>) -> Rc<str> {
        // CPython writes lone surrogates (from undecodable file names) with "surrogatepass",
        // which is not UTF-8: they become U+FFFD.
        match String::from_utf8(bytes) {
            Ok(s) => Rc::from(s),
            Err(e) => Rc::from(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        }
    }

    /// Reads one object.
    pub(crate) fn read(&mut self) -> R<Value> {
        let code = self.byte()?;
        let flag = code & FLAG_REF != 0;
        let ty = code & !FLAG_REF;
        if self.depth >= MAX_DEPTH {
            return self.err(format!("objects nested deeper than {MAX_DEPTH} levels"));
        }
        self.depth += 1;
        let result = self.read_typed(ty, flag);
        self.depth -= 1;
        result
    }

    /// Reserves a reference slot for an object with `FLAG_REF`, before its children are read.
    fn reserve(&mut self, flag: bool) -> Option<usize> {
        flag.then(|| {
            self.refs.push(None);
            self.refs.len() - 1
        })
    }

    fn fill(&mut self, slot: Option<usize>, value: Value) -> Value {
        if let Some(i) = slot {
            self.refs[i] = Some(value.clone());
        }
        value
    }

    fn items(&mut self, n: u64) -> R<Vec<Value>> {
        let mut items = Vec::with_capacity(n.min(4096) as usize);
        for _ in 0..n {
            items.push(self.read()?);
        }
        Ok(items)
    }

    fn read_typed(&mut self, ty: u8, flag: bool) -> R<Value> {
        let start = self.offset - 1;
        // As CPython: singletons and back-references take no reference slot.
        let slot =
            self.reserve(flag && !matches!(ty, b'N' | b'F' | b'T' | b'S' | b'.' | b'r' | b'0'));
        let value = match ty {
            b'0' => return self.err("unexpected NULL (a dict terminator outside a dict)"),
            b'N' => Value::None,
            b'F' => Value::Bool(false),
            b'T' => Value::Bool(true),
            b'S' => Value::StopIteration,
            b'.' => Value::Ellipsis,
            b'i' => Value::Int(i64::from(self.i32()?)),
            b'I' => Value::Int(i64::from_le_bytes(self.array()?)),
            b'l' => self.long()?,
            b'f' => Value::Float(self.text_float()?),
            b'g' => Value::Float(f64::from_le_bytes(self.array()?)),
            b'x' => {
                self.text_float()?;
                self.text_float()?;
                Value::Complex
            }
            b'y' => {
                self.array::<16>()?;
                Value::Complex
            }
            b's' => {
                let n = self.len("bytes", 1)?;
                Value::Bytes(Rc::from(self.bytes(n)?))
            }
            b'u' | b't' => {
                let n = self.len("str", 1)?;
                let b = self.bytes(n)?;
                Value::Str(self.utf8(b))
            }
            b'a' | b'A' => {
                let n = self.len("str", 1)?;
                let b = self.bytes(n)?;
                Value::Str(self.ascii(b)?)
            }
            b'z' | b'Z' => {
                let n = u64::from(self.byte()?);
                let b = self.bytes(n)?;
                Value::Str(self.ascii(b)?)
            }
            b'(' | b'[' | b'<' | b'>' => {
                let n = self.len("container", 1)?;
                let items: Rc<[Value]> = self.items(n)?.into();
                match ty {
                    b'(' => Value::Tuple(items),
                    b'[' => Value::List(items),
                    _ => Value::Set(items),
                }
            }
            b')' => {
                let n = u64::from(self.byte()?);
                Value::Tuple(self.items(n)?.into())
            }
            b'{' => {
                let mut pairs = Vec::new();
                loop {
                    let code = self.byte()?;
                    if code == b'0' {
                        break;
                    }
                    if self.depth >= MAX_DEPTH {
                        return self.err(format!("objects nested deeper than {MAX_DEPTH} levels"));
                    }
                    self.depth += 1;
                    let key = self.read_typed(code & !FLAG_REF, code & FLAG_REF != 0);
                    self.depth -= 1;
                    let key = key?;
                    let value = self.read()?;
                    pairs.push((key, value));
                }
                Value::Dict(pairs.into())
            }
            b':' => {
                self.read()?;
                self.read()?;
                self.read()?;
                Value::Slice
            }
            b'r' => {
                let n = self.i32()?;
                let target = usize::try_from(n).ok().and_then(|i| self.refs.get(i));
                return match target {
                    Some(Some(v)) => Ok(v.clone()),
                    Some(None) => self.err(format!(
                        "back-reference {n} points to an object that contains it"
                    )),
                    None => self.err(format!(
                        "back-reference {n} to one of only {} objects",
                        self.refs.len()
                    )),
                };
            }
            b'c' => {
                return Err(MarshalError {
                    offset: start,
                    // Python's pure-Python `profile` module (`python -m profile -o FILE`)
                    // names the profiled command by its code object; a code object's layout
                    // changes with each Python version, and it is not profile data.
                    why: "a code object, not profile data: Python's pure-Python `profile` module \
                          (`python -m profile -o FILE`) writes one into its files as the name of \
                          the command it ran; notes-prof reads cProfile's files, so profile with \
                          `python -m cProfile -o FILE` (or `profile.Profile().runcall(f)`, which \
                          names no code object)"
                        .into(),
                    limit_reached: false,
                });
            }
            other => {
                return Err(MarshalError {
                    offset: start,
                    why: format!("unknown type code 0x{other:02x}"),
                    limit_reached: false,
                });
            }
        };
        Ok(self.fill(slot, value))
    }

    fn ascii(&self, b: Vec<u8>) -> R<Rc<str>> {
        if !b.is_ascii() {
            return self.err("an ASCII string holds a non-ASCII byte");
        }
        Ok(self.utf8(b))
    }

    /// Version 0/1 floats: a length byte and the repr text.
    fn text_float(&mut self) -> R<f64> {
        let n = u64::from(self.byte()?);
        let b = self.bytes(n)?;
        let text = std::str::from_utf8(&b).unwrap_or("");
        match text.parse::<f64>() {
            Ok(x) => Ok(x),
            Err(_) => self.err(format!("bad float text {:?}", String::from_utf8_lossy(&b))),
        }
    }

    /// `TYPE_LONG`: a signed count of 15-bit digits, least significant first.
    fn long(&mut self) -> R<Value> {
        let n = self.i32()?;
        let count = u64::from(n.unsigned_abs());
        if count.saturating_mul(2) > self.left() {
            return self.err(format!("an int of {count} digits cannot fit in the input"));
        }
        let mut value: i128 = 0;
        let mut big = false;
        for i in 0..count {
            let d = u16::from_le_bytes(self.array()?);
            if d >= 1 << 15 {
                return self.err("bad marshal data (digit out of range in long)");
            }
            if i + 1 == count && d == 0 {
                return self.err("bad marshal data (unnormalized long data)");
            }
            if i < 8 {
                value |= i128::from(d) << (15 * i);
            } else {
                big = true;
            }
        }
        if n < 0 {
            value = -value;
        }
        Ok(match i64::try_from(value) {
            Ok(v) if !big => Value::Int(v),
            _ => Value::BigInt,
        })
    }
}

/// Writes marshal objects as CPython's version 4 does (without back-references, which are optional).
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) out: Vec<u8>,
}

impl Writer {
    pub(crate) fn int(&mut self, v: i64) {
        if let Ok(small) = i32::try_from(v) {
            self.out.push(b'i');
            self.out.extend_from_slice(&small.to_le_bytes());
            return;
        }
        self.out.push(b'l');
        let mut mag = v.unsigned_abs();
        let mut digits = Vec::new();
        while mag > 0 {
            digits.push((mag & 0x7fff) as u16);
            mag >>= 15;
        }
        let n = digits.len() as i32;
        self.out
            .extend_from_slice(&(if v < 0 { -n } else { n }).to_le_bytes());
        for d in digits {
            self.out.extend_from_slice(&d.to_le_bytes());
        }
    }

    pub(crate) fn uint(&mut self, v: u64) {
        match i64::try_from(v) {
            Ok(v) => self.int(v),
            Err(_) => {
                // Above i64: the 64-bit magnitude in 15-bit digits.
                self.out.push(b'l');
                let mut mag = v;
                let mut digits = Vec::new();
                while mag > 0 {
                    digits.push((mag & 0x7fff) as u16);
                    mag >>= 15;
                }
                self.out
                    .extend_from_slice(&(digits.len() as i32).to_le_bytes());
                for d in digits {
                    self.out.extend_from_slice(&d.to_le_bytes());
                }
            }
        }
    }

    pub(crate) fn float(&mut self, v: f64) {
        self.out.push(b'g');
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn str(&mut self, s: &str) {
        if s.is_ascii() && s.len() < 256 {
            self.out.push(b'z');
            self.out.push(s.len() as u8);
        } else {
            self.out.push(if s.is_ascii() { b'a' } else { b'u' });
            // Strings longer than i32::MAX bytes cannot be marshalled; names are never that long.
            let n = i32::try_from(s.len()).unwrap_or(i32::MAX);
            self.out.extend_from_slice(&n.to_le_bytes());
        }
        self.out.extend_from_slice(s.as_bytes());
    }

    /// Starts a tuple of `n` items (the caller writes them).
    pub(crate) fn tuple(&mut self, n: usize) {
        if n < 256 {
            self.out.push(b')');
            self.out.push(n as u8);
        } else {
            self.out.push(b'(');
            self.out.extend_from_slice(&(n as i32).to_le_bytes());
        }
    }

    pub(crate) fn dict_start(&mut self) {
        self.out.push(b'{');
    }

    pub(crate) fn dict_end(&mut self) {
        self.out.push(b'0');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> R<Value> {
        Reader::new(bytes, bytes.len() as u64).read()
    }

    #[test]
    fn scalars_of_every_version() {
        assert_eq!(read(b"N").unwrap(), Value::None);
        assert_eq!(read(b"i\x05\x00\x00\x00").unwrap(), Value::Int(5));
        assert_eq!(read(b"f\x031.5").unwrap(), Value::Float(1.5));
        assert_eq!(
            read(&[b'g', 0, 0, 0, 0, 0, 0, 0xf8, 0x3f]).unwrap(),
            Value::Float(1.5)
        );
        assert_eq!(read(b"z\x02ab").unwrap(), Value::Str("ab".into()));
        assert_eq!(
            read(b"u\x02\x00\x00\x00ab").unwrap(),
            Value::Str("ab".into())
        );
        // -(1 + 2 * 2**15)
        assert_eq!(
            read(b"l\xfe\xff\xff\xff\x01\x00\x02\x00").unwrap(),
            Value::Int(-(1 + 2 * 32768))
        );
    }

    #[test]
    fn writer_ints_round_trip() {
        for v in [0, 1, -1, i64::from(i32::MAX) + 1, i64::MIN + 1, i64::MAX] {
            let mut w = Writer::default();
            w.int(v);
            assert_eq!(read(&w.out).unwrap(), Value::Int(v), "{v}");
        }
        let mut w = Writer::default();
        w.uint(u64::MAX);
        assert_eq!(read(&w.out).unwrap(), Value::BigInt);
    }

    #[test]
    fn refs_share_and_cannot_be_cyclic() {
        // A tuple flagged as ref 0, then a tuple of two references to it.
        let bytes = b")\x02\xa9\x01z\x01ar\x00\x00\x00\x00";
        let Value::Tuple(items) = read(bytes).unwrap() else {
            panic!()
        };
        assert_eq!(items[0], items[1]);
        // A tuple whose item refers to the tuple itself.
        let err = read(b"\xa9\x01r\x00\x00\x00\x00").unwrap_err();
        assert!(err.why.contains("contains it"), "{err:?}");
        let err = read(b"r\x07\x00\x00\x00").unwrap_err();
        assert!(err.why.contains("only 0 objects"), "{err:?}");
    }

    #[test]
    fn lengths_are_checked_before_allocating() {
        let err = read(b"u\xff\xff\xff\x7f").unwrap_err();
        assert!(
            err.why.contains("cannot fit in the 0 bytes left"),
            "{err:?}"
        );
        let err = read(b"(\xff\xff\xff\x7f").unwrap_err();
        assert!(err.why.contains("cannot fit"), "{err:?}");
        let err = read(b"l\xff\xff\xff\x7f").unwrap_err();
        assert!(err.why.contains("cannot fit"), "{err:?}");
    }

    #[test]
    fn nesting_is_limited() {
        let mut bytes = vec![b'['];
        bytes.extend_from_slice(&1i32.to_le_bytes());
        let deep: Vec<u8> = bytes.repeat(10_000);
        let err = read(&deep).unwrap_err();
        assert!(err.why.contains("nested deeper"), "{err:?}");
        let dicts = b"{z\x01a".repeat(10_000);
        let err = read(&dicts).unwrap_err();
        assert!(err.why.contains("nested deeper"), "{err:?}");
    }

    #[test]
    fn bad_codes_and_truncation_are_errors() {
        assert!(read(b"").is_err());
        assert!(read(b"\x00").unwrap_err().why.contains("0x00"));
        assert!(read(b"{z\x01a").is_err());
        assert!(read(b"c").unwrap_err().why.contains("code object"));
        assert!(
            read(b"l\x01\x00\x00\x00\x00\x00")
                .unwrap_err()
                .why
                .contains("unnormalized")
        );
    }
}
