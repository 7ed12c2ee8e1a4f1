//! The values a pickle decodes to: Python's plain data plus the typed values of the
//! allow-listed reconstructors (datetimes, `Decimal`, `complex`, the `collections` types,
//! numpy arrays and scalars).

use std::sync::Arc;

pub use num_bigint::BigInt;

/// One decoded Python value.
///
/// Containers hold their items in `Arc`s: a value the pickle refers to twice (through its
/// memo) is stored once and shared, as it is in Python. Dicts, sets and the `collections`
/// types keep the pickle's order, which is the order Python iterated (and printed) them in.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// `None`.
    None,
    /// `True` or `False`.
    Bool(bool),
    /// An `int` that fits in 64 bits.
    Int(i64),
    /// An `int` outside the 64-bit range.
    BigInt(Arc<BigInt>),
    /// A `float`.
    Float(f64),
    /// A `str`.
    Str(Arc<str>),
    /// A `bytes`.
    Bytes(Arc<Vec<u8>>),
    /// A `bytearray`.
    ByteArray(Arc<Vec<u8>>),
    /// A `list`.
    List(Arc<Vec<Value>>),
    /// A `tuple`.
    Tuple(Arc<Vec<Value>>),
    /// A `set`, in the pickle's (Python's iteration) order.
    Set(Arc<Vec<Value>>),
    /// A `frozenset`, in the pickle's order.
    FrozenSet(Arc<Vec<Value>>),
    /// A `dict`, in insertion order.
    Dict(Arc<Vec<(Value, Value)>>),
    /// A `datetime.datetime`.
    DateTime(Arc<DateTime>),
    /// A `datetime.date`.
    Date(Date),
    /// A `datetime.time`.
    Time(Arc<Time>),
    /// A `datetime.timedelta`.
    TimeDelta(TimeDelta),
    /// A `datetime.timezone` (a fixed offset, maybe named).
    TimeZone(Arc<TimeZone>),
    /// A `decimal.Decimal`, as its canonical string (`str(d)`: `1.10`, `1E+3`, `NaN`, `-Infinity`).
    Decimal(Arc<str>),
    /// A `complex`: real and imaginary parts.
    Complex(f64, f64),
    /// A `collections.OrderedDict`.
    OrderedDict(Arc<Vec<(Value, Value)>>),
    /// A `collections.defaultdict`: its `default_factory` (a class name such as `list`, or
    /// `None`) and its items.
    DefaultDict(Option<Arc<str>>, Arc<Vec<(Value, Value)>>),
    /// A `collections.Counter`, in insertion order.
    Counter(Arc<Vec<(Value, Value)>>),
    /// A `collections.deque`: its items and `maxlen`.
    Deque(Arc<Vec<Value>>, Option<u64>),
    /// A numpy `ndarray` of a numeric or bool dtype.
    Array(Arc<Array>),
    /// A numpy scalar (`np.float64(1.5)`): a 0-dimensional [`Array`].
    Scalar(Arc<Array>),
}

/// A `datetime.datetime`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateTime {
    /// The date.
    pub date: Date,
    /// The time of day and time zone.
    pub time: Time,
}

/// A `datetime.date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    /// 1 to 9999.
    pub year: u16,
    /// 1 to 12.
    pub month: u8,
    /// 1 to the month's length.
    pub day: u8,
}

/// A `datetime.time` (also the time part of a [`DateTime`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Time {
    /// 0 to 23.
    pub hour: u8,
    /// 0 to 59.
    pub minute: u8,
    /// 0 to 59.
    pub second: u8,
    /// 0 to 999999.
    pub microsecond: u32,
    /// `fold=1`: the second of two equal wall times (PEP 495).
    pub fold: bool,
    /// The `tzinfo`: `None` for a naive time.
    pub tz: Option<Arc<TimeZone>>,
}

/// A `datetime.timedelta`, normalised as Python does (`0 <= seconds < 86400`,
/// `0 <= microseconds < 1000000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeDelta {
    /// -999999999 to 999999999.
    pub days: i32,
    /// 0 to 86399.
    pub seconds: u32,
    /// 0 to 999999.
    pub microseconds: u32,
}

/// A `datetime.timezone`: a fixed offset from UTC (strictly within ±24 hours) and an
/// optional name. `timezone.utc` is the offset 0 without a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZone {
    /// The offset from UTC.
    pub offset: TimeDelta,
    /// The name given to the constructor, if any.
    pub name: Option<Arc<str>>,
}

impl TimeDelta {
    /// The largest `days` Python allows.
    pub const MAX_DAYS: i64 = 999_999_999;

    /// Normalises `days`, `seconds` and `microseconds` as `datetime.timedelta(...)` does;
    /// `None` when the result is outside Python's range.
    pub fn new(days: i64, seconds: i64, microseconds: i64) -> Option<Self> {
        let total = i128::from(days) * 86_400_000_000
            + i128::from(seconds) * 1_000_000
            + i128::from(microseconds);
        Self::from_microseconds(total)
    }

    /// The delta of `total` microseconds; `None` when outside Python's range.
    pub fn from_microseconds(total: i128) -> Option<Self> {
        let days = total.div_euclid(86_400_000_000);
        let rest = total.rem_euclid(86_400_000_000);
        if days.abs() > i128::from(Self::MAX_DAYS) {
            return None;
        }
        Some(Self {
            days: days as i32,
            seconds: (rest / 1_000_000) as u32,
            microseconds: (rest % 1_000_000) as u32,
        })
    }

    /// The whole delta in microseconds.
    pub fn total_microseconds(&self) -> i128 {
        i128::from(self.days) * 86_400_000_000
            + i128::from(self.seconds) * 1_000_000
            + i128::from(self.microseconds)
    }
}

impl TimeZone {
    /// `datetime.timezone.utc`.
    pub fn utc() -> Self {
        Self {
            offset: TimeDelta {
                days: 0,
                seconds: 0,
                microseconds: 0,
            },
            name: None,
        }
    }

    /// Whether this is `datetime.timezone.utc` (offset 0, no name).
    pub fn is_utc(&self) -> bool {
        self.name.is_none() && self.offset.total_microseconds() == 0
    }

    /// The offset as `isoformat` writes it: `+02:00`, `-05:30`, `+01:02:03.000004`.
    pub fn offset_string(&self) -> String {
        let total = self.offset.total_microseconds();
        let sign = if total < 0 { '-' } else { '+' };
        let abs = total.unsigned_abs();
        let (secs, us) = (abs / 1_000_000, abs % 1_000_000);
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        let mut out = format!("{sign}{h:02}:{m:02}");
        if s != 0 || us != 0 {
            out.push_str(&format!(":{s:02}"));
        }
        if us != 0 {
            out.push_str(&format!(".{us:06}"));
        }
        out
    }
}

impl Date {
    /// Whether the fields make a valid proleptic Gregorian date in Python's range.
    pub fn is_valid(&self) -> bool {
        (1..=9999).contains(&self.year)
            && (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
    }

    /// `isoformat()`: `2024-10-19`.
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Time {
    /// Whether the fields are in range.
    pub fn is_valid(&self) -> bool {
        self.hour < 24 && self.minute < 60 && self.second < 60 && self.microsecond < 1_000_000
    }

    /// `isoformat()`: `08:35:12.975783`, `08:35:12`, with the offset when aware.
    pub fn iso(&self) -> String {
        let mut out = format!("{:02}:{:02}:{:02}", self.hour, self.minute, self.second);
        if self.microsecond != 0 {
            out.push_str(&format!(".{:06}", self.microsecond));
        }
        if let Some(tz) = &self.tz {
            out.push_str(&tz.offset_string());
        }
        out
    }
}

impl DateTime {
    /// `isoformat()`: `2024-10-19T08:35:12.975783+00:00`.
    pub fn iso(&self) -> String {
        format!("{}T{}", self.date.iso(), self.time.iso())
    }
}

/// The number of days in `month` of `year` (Gregorian).
pub(crate) fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

/// The kind of a numpy dtype this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// `bool` (`b1`).
    Bool,
    /// Signed integers (`i1` to `i8`).
    Int,
    /// Unsigned integers (`u1` to `u8`).
    UInt,
    /// IEEE floats (`f2`, `f4`, `f8`).
    Float,
    /// Complex numbers of two floats (`c8`, `c16`).
    Complex,
}

/// A numeric or bool numpy dtype: kind, item size in bytes and byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DType {
    /// What the items are.
    pub kind: Kind,
    /// Bytes per item: 1, 2, 4, 8 or (complex) 16.
    pub size: usize,
    /// Whether multi-byte items are big-endian (`>`); single bytes have no order.
    pub big_endian: bool,
}

impl DType {
    /// Parses numpy's type codes without byte order (`f8`, `i4`, `b1`, `?`, `c16`), the
    /// first argument of `numpy.dtype(...)` in a pickle.
    pub fn from_code(code: &str) -> Option<Self> {
        let (kind, size) = match code {
            "?" | "b1" => (Kind::Bool, 1),
            "i1" | "b" => (Kind::Int, 1),
            "i2" => (Kind::Int, 2),
            "i4" => (Kind::Int, 4),
            "i8" => (Kind::Int, 8),
            "u1" | "B" => (Kind::UInt, 1),
            "u2" => (Kind::UInt, 2),
            "u4" => (Kind::UInt, 4),
            "u8" => (Kind::UInt, 8),
            "f2" | "e" => (Kind::Float, 2),
            "f4" | "f" => (Kind::Float, 4),
            "f8" | "d" => (Kind::Float, 8),
            "c8" | "F" => (Kind::Complex, 8),
            "c16" | "D" => (Kind::Complex, 16),
            _ => return None,
        };
        Some(Self {
            kind,
            size,
            big_endian: false,
        })
    }

    /// Parses numpy's `dtype.str` (`<f8`, `>i4`, `|b1`).
    pub fn from_str_code(code: &str) -> Option<Self> {
        let mut chars = code.chars();
        let order = chars.next()?;
        let mut dtype = Self::from_code(chars.as_str())?;
        match order {
            '<' | '|' | '=' => {}
            '>' => dtype.big_endian = dtype.size > 1,
            _ => return None,
        }
        Some(dtype)
    }

    /// numpy's `dtype.str`: `<f8`, `>i4`, `|b1`.
    pub fn str_code(&self) -> String {
        let order = if self.size == 1 {
            '|'
        } else if self.big_endian {
            '>'
        } else {
            '<'
        };
        let letter = match self.kind {
            Kind::Bool => 'b',
            Kind::Int => 'i',
            Kind::UInt => 'u',
            Kind::Float => 'f',
            Kind::Complex => 'c',
        };
        format!("{order}{letter}{}", self.size)
    }

    /// numpy's `dtype.name`: `float64`, `int32`, `bool`, `complex128`.
    pub fn name(&self) -> String {
        match self.kind {
            Kind::Bool => "bool".into(),
            Kind::Int => format!("int{}", self.size * 8),
            Kind::UInt => format!("uint{}", self.size * 8),
            Kind::Float => format!("float{}", self.size * 8),
            Kind::Complex => format!("complex{}", self.size * 8),
        }
    }
}

/// One item of an [`Array`], widened.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Item {
    /// A bool item.
    Bool(bool),
    /// A signed integer item.
    Int(i64),
    /// An unsigned integer item.
    UInt(u64),
    /// A float item (float16 and float32 widened exactly).
    Float(f64),
    /// A complex item (real, imaginary).
    Complex(f64, f64),
}

/// A numpy array: dtype, shape, memory order and data.
///
/// The data is one byte buffer, never one value per item: an array read by
/// [`load`](super::load) shares the file's bytes (no copy at all), one built otherwise owns
/// a copy of its data.
#[derive(Clone)]
pub struct Array {
    dtype: DType,
    shape: Vec<usize>,
    fortran: bool,
    data: Data,
}

/// Where an array's bytes live.
#[derive(Clone)]
enum Data {
    Owned(Vec<u8>),
    /// `buf[start..end]` of a buffer other values may share (a whole pickle file).
    Shared {
        buf: Arc<Vec<u8>>,
        start: usize,
        end: usize,
    },
}

impl PartialEq for Array {
    fn eq(&self, other: &Self) -> bool {
        self.dtype == other.dtype
            && self.shape == other.shape
            && self.fortran == other.fortran
            && self.data() == other.data()
    }
}

impl std::fmt::Debug for Array {
    // The data only, never the rest of a shared buffer.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Array")
            .field("dtype", &self.dtype)
            .field("shape", &self.shape)
            .field("fortran", &self.fortran)
            .field("data", &self.data())
            .finish()
    }
}

/// numpy's own limit on dimensions.
pub const MAX_NDIM: usize = 64;

/// An item type an [`Array`]'s data can be viewed as in place: the fixed-size integers and
/// floats, whose every bit pattern is a valid value. Sealed.
pub trait Native: sealed::Sealed + Copy + 'static {
    /// The dtype kind of this type.
    const KIND: Kind;
    /// Reads one item from `raw` (`size_of::<Self>()` bytes) in the given byte order.
    fn read(raw: &[u8], big_endian: bool) -> Self;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! native {
    ($($t:ty => $kind:ident),*) => {$(
        impl sealed::Sealed for $t {}
        impl Native for $t {
            const KIND: Kind = Kind::$kind;
            fn read(raw: &[u8], big_endian: bool) -> Self {
                let mut bytes = [0u8; std::mem::size_of::<$t>()];
                bytes.copy_from_slice(raw);
                if big_endian {
                    <$t>::from_be_bytes(bytes)
                } else {
                    <$t>::from_le_bytes(bytes)
                }
            }
        }
    )*};
}

native!(i8 => Int, i16 => Int, i32 => Int, i64 => Int, u8 => UInt, u16 => UInt, u32 => UInt,
    u64 => UInt, f32 => Float, f64 => Float);

impl Array {
    /// An array from its parts; `data` holds the items in memory order (Fortran order when
    /// `fortran`), in the dtype's byte order. `None` when `data` is not exactly
    /// `shape.product() * dtype.size` bytes or there are more than [`MAX_NDIM`] dimensions.
    pub fn new(dtype: DType, shape: Vec<usize>, fortran: bool, data: &[u8]) -> Option<Self> {
        Self::checked(dtype, &shape, data.len())?;
        Some(Self {
            dtype,
            shape,
            fortran,
            data: Data::Owned(data.to_vec()),
        })
    }

    /// The same with the data `buf[start..end]`, shared rather than copied.
    pub(crate) fn shared(
        dtype: DType,
        shape: Vec<usize>,
        fortran: bool,
        buf: &Arc<Vec<u8>>,
        range: std::ops::Range<usize>,
    ) -> Option<Self> {
        buf.get(range.clone())?;
        Self::checked(dtype, &shape, range.len())?;
        Some(Self {
            dtype,
            shape,
            fortran,
            data: Data::Shared {
                buf: Arc::clone(buf),
                start: range.start,
                end: range.end,
            },
        })
    }

    /// `Some` when `len` bytes are exactly the data of `shape` and there are at most
    /// [`MAX_NDIM`] dimensions.
    fn checked(dtype: DType, shape: &[usize], len: usize) -> Option<()> {
        let want = shape
            .iter()
            .try_fold(dtype.size, |acc, &d| acc.checked_mul(d))?;
        (want == len && shape.len() <= MAX_NDIM && possible(dtype, shape)).then_some(())
    }

    /// The dtype.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The shape (empty for a scalar).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Whether the data is in Fortran (column-major) order.
    pub fn is_fortran(&self) -> bool {
        self.fortran
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The raw data, in memory order and the dtype's byte order.
    pub fn data(&self) -> &[u8] {
        match &self.data {
            Data::Owned(data) => data,
            Data::Shared { buf, start, end } => &buf[*start..*end],
        }
    }

    /// The data viewed in place as items of `T`, in memory order, without a copy: `Some`
    /// when `T` is the dtype (same kind and size) in this machine's byte order and the data
    /// is aligned for `T` ([`load`](super::load) aligns the largest array of a file).
    /// Otherwise [`to_vec`](Array::to_vec) converts with one copy.
    pub fn as_slice<T: Native>(&self) -> Option<&[T]> {
        if !self.is::<T>()
            || (self.dtype.size > 1 && self.dtype.big_endian != cfg!(target_endian = "big"))
        {
            return None;
        }
        let data = self.data();
        // SAFETY: `T` is a fixed-size integer or float (the sealed `Native`), for which every
        // bit pattern is a valid value, and `align_to` only puts correctly aligned,
        // in-bounds items in the middle slice.
        #[allow(unsafe_code)]
        let (head, items, tail) = unsafe { data.align_to::<T>() };
        (head.is_empty() && tail.is_empty()).then_some(items)
    }

    /// The items as `T` in memory order, converted from the dtype's byte order (one copy);
    /// `None` when `T` is not the dtype.
    pub fn to_vec<T: Native>(&self) -> Option<Vec<T>> {
        self.is::<T>().then(|| {
            self.data()
                .chunks_exact(self.dtype.size)
                .map(|raw| T::read(raw, self.dtype.big_endian))
                .collect()
        })
    }

    fn is<T: Native>(&self) -> bool {
        T::KIND == self.dtype.kind && std::mem::size_of::<T>() == self.dtype.size
    }

    /// The array as the bytes of a `.npy` file (what `numpy.save` writes): a new buffer,
    /// the header followed by a copy of the data.
    pub fn npy_bytes(&self) -> Vec<u8> {
        let dims: Vec<String> = self.shape.iter().map(usize::to_string).collect();
        let shape_text = match dims.len() {
            1 => format!("({},)", dims[0]),
            _ => format!("({})", dims.join(", ")),
        };
        let mut header = format!(
            "{{'descr': '{}', 'fortran_order': {}, 'shape': {}, }}",
            self.dtype.str_code(),
            if self.fortran { "True" } else { "False" },
            shape_text
        );
        // The header ends with a newline and the data starts at a multiple of 64 bytes.
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let data = self.data();
        let mut npy = Vec::with_capacity(10 + header.len() + data.len());
        npy.extend_from_slice(b"\x93NUMPY\x01\x00");
        npy.extend_from_slice(&(header.len() as u16).to_le_bytes());
        npy.extend_from_slice(header.as_bytes());
        npy.extend_from_slice(data);
        npy
    }

    /// The item at `index` in C (row-major) order, whatever the memory order.
    ///
    /// # Panics
    /// When `index >= self.len()`.
    pub fn item(&self, index: usize) -> Item {
        let offset = if self.fortran && self.shape.len() > 1 {
            // Turn the row-major index into the column-major one.
            let mut rest = index;
            let mut coords = vec![0; self.shape.len()];
            for (axis, &dim) in self.shape.iter().enumerate().rev() {
                coords[axis] = rest % dim;
                rest /= dim;
            }
            let mut flat = 0;
            for (axis, &dim) in self.shape.iter().enumerate().rev() {
                flat = flat * dim + coords[axis];
            }
            flat
        } else {
            index
        };
        let size = self.dtype.size;
        let raw = &self.data()[offset * size..(offset + 1) * size];
        decode_item(self.dtype, raw)
    }
}

fn uint(raw: &[u8], big: bool) -> u64 {
    let mut buf = [0u8; 8];
    if big {
        buf[8 - raw.len()..].copy_from_slice(raw);
        u64::from_be_bytes(buf)
    } else {
        buf[..raw.len()].copy_from_slice(raw);
        u64::from_le_bytes(buf)
    }
}

fn float(raw: &[u8], big: bool) -> f64 {
    let bits = uint(raw, big);
    match raw.len() {
        2 => f16_to_f64(bits as u16),
        4 => f64::from(f32::from_bits(bits as u32)),
        _ => f64::from_bits(bits),
    }
}

/// Widens an IEEE half-precision float exactly.
pub(crate) fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let frac = f64::from(bits & 0x3ff);
    sign * match exp {
        0 => frac * 2f64.powi(-24),
        31 if frac == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1.0 + frac / 1024.0) * 2f64.powi(exp - 15),
    }
}

fn decode_item(dtype: DType, raw: &[u8]) -> Item {
    let big = dtype.big_endian;
    match dtype.kind {
        Kind::Bool => Item::Bool(raw[0] != 0),
        Kind::Int => {
            let u = uint(raw, big);
            let shift = 64 - 8 * raw.len() as u32;
            Item::Int(((u << shift) as i64) >> shift)
        }
        Kind::UInt => Item::UInt(uint(raw, big)),
        Kind::Float => Item::Float(float(raw, big)),
        Kind::Complex => {
            let half = raw.len() / 2;
            Item::Complex(float(&raw[..half], big), float(&raw[half..], big))
        }
    }
}

/// The nearest IEEE half float to `f` (ties to even), as bits.
pub(crate) fn f64_to_f16_bits(f: f64) -> u16 {
    if f.is_nan() {
        return 0x7e00;
    }
    let sign: u16 = if f.is_sign_negative() { 0x8000 } else { 0 };
    let a = f.abs();
    // Half floats are monotonic in their bits: search 0..=0x7c00 (0 to infinity).
    let (mut lo, mut hi) = (0u16, 0x7c00u16);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if f16_to_f64(mid) < a {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    // `lo` is the first half float >= a; the nearest is it or the one below.
    let bits = if lo > 0 {
        let (below, above) = (f16_to_f64(lo - 1), f16_to_f64(lo));
        let (d_below, d_above) = (a - below, above - a);
        if d_below < d_above || (d_below == d_above && (lo - 1) % 2 == 0) {
            lo - 1
        } else {
            lo
        }
    } else {
        lo
    };
    // Past the largest finite half (65504) by half an ulp or more: infinity.
    let bits = if a >= 65520.0 { 0x7c00 } else { bits };
    sign | bits
}

fn encode_item(dtype: DType, item: Item, out: &mut Vec<u8>) -> Option<()> {
    let put = |out: &mut Vec<u8>, le: &[u8]| {
        if dtype.big_endian {
            out.extend(le.iter().rev());
        } else {
            out.extend_from_slice(le);
        }
    };
    let float = |out: &mut Vec<u8>, f: f64, size: usize| match size {
        2 => put(out, &f64_to_f16_bits(f).to_le_bytes()),
        4 => put(out, &(f as f32).to_le_bytes()),
        _ => put(out, &f.to_le_bytes()),
    };
    let size = dtype.size;
    match (dtype.kind, item) {
        (Kind::Bool, Item::Bool(b)) => out.push(u8::from(b)),
        (Kind::Int, Item::Int(i)) => {
            let shift = 64 - 8 * size as u32;
            if size < 8 && (i << shift) >> shift != i {
                return None;
            }
            put(out, &i.to_le_bytes()[..size]);
        }
        (Kind::Int, Item::UInt(u)) => {
            return encode_item(dtype, Item::Int(i64::try_from(u).ok()?), out);
        }
        (Kind::UInt, Item::UInt(u)) => {
            if size < 8 && u >> (8 * size) != 0 {
                return None;
            }
            put(out, &u.to_le_bytes()[..size]);
        }
        (Kind::UInt, Item::Int(i)) => {
            return encode_item(dtype, Item::UInt(u64::try_from(i).ok()?), out);
        }
        (Kind::Float, Item::Float(f)) => {
            let before = out.len();
            float(out, f, size);
            // Exact or an error: the value must survive the narrowing.
            let back = decode_item(dtype, &out[before..]);
            if back != Item::Float(f) && !f.is_nan() {
                return None;
            }
        }
        (Kind::Float, Item::Int(i)) => return encode_item(dtype, Item::Float(i as f64), out),
        (Kind::Complex, Item::Complex(re, im)) => {
            let before = out.len();
            float(out, re, size / 2);
            float(out, im, size / 2);
            if let Item::Complex(r, i) = decode_item(dtype, &out[before..])
                && ((r != re && !re.is_nan()) || (i != im && !im.is_nan()))
            {
                return None;
            }
        }
        _ => return None,
    }
    Some(())
}

impl Array {
    /// An array from its items in C (row-major) order, stored in `fortran` order when
    /// asked. `None` when the count does not match the shape or an item does not fit the
    /// dtype exactly (`300` in `uint8`, `0.1` in `float32`, a bool in a float array).
    pub fn from_items(
        dtype: DType,
        shape: Vec<usize>,
        fortran: bool,
        items: &[Item],
    ) -> Option<Self> {
        let count = shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))?;
        if count != items.len() || !possible(dtype, &shape) {
            return None;
        }
        let mut data = Vec::with_capacity(count.checked_mul(dtype.size)?);
        if fortran && shape.len() > 1 {
            // Memory position p (column-major) holds the item whose row-major index is:
            let mut coords = vec![0usize; shape.len()];
            for _ in 0..count {
                let mut c_index = 0;
                for (axis, &dim) in shape.iter().enumerate() {
                    c_index = c_index * dim + coords[axis];
                }
                encode_item(dtype, items[c_index], &mut data)?;
                for (axis, &dim) in shape.iter().enumerate() {
                    coords[axis] += 1;
                    if coords[axis] < dim {
                        break;
                    }
                    coords[axis] = 0;
                }
            }
        } else {
            for &item in items {
                encode_item(dtype, item, &mut data)?;
            }
        }
        Self::new(dtype, shape, fortran, &data)
    }
}

/// Whether numpy can make an array of `shape`: the product of its non-zero dimensions
/// times the item size fits an `isize`, even when a zero dimension leaves it empty
/// (numpy refuses `(0, 2**63 - 1)` as "array is too big").
fn possible(dtype: DType, shape: &[usize]) -> bool {
    shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(dtype.size.max(1), |acc: usize, &d| acc.checked_mul(d))
        .is_some_and(|bytes| bytes <= isize::MAX as usize)
}
