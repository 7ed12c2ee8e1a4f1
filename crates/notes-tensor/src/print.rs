//! numpy's `print(a)` for ndarray arrays, byte for byte: a port of `numpy/_core/arrayprint.py`
//! (`_formatArray`, `FloatingFormat`, `IntegerFormat`, `BoolFormat`) with Rust's exact float
//! formatting standing in for numpy's Dragon4.
//!
//! Dragon4 in numpy's "unique" mode prints the shortest digits that round-trip, which is what
//! Rust's `{}` and `{:e}` print; when a precision cuts those digits (or `min_digits` asks for
//! more), numpy prints the exact binary value rounded half-to-even at that digit, which is what
//! Rust's `{:.p}` and `{:.pe}` print.

use std::cell::RefCell;
use std::fmt;
use std::sync::RwLock;

use ndarray::{ArrayBase, ArrayViewD, Data, Dimension, IxDyn};

/// How signs of positive numbers are printed (numpy's `sign` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sign {
    /// `'-'`: only negative numbers get a sign (numpy's default).
    #[default]
    Minus,
    /// `'+'`: positive numbers get a `+`.
    Plus,
    /// `' '`: positive numbers get a space where the sign would be.
    Space,
}

/// How many fractional digits floats get (numpy's `floatmode` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FloatMode {
    /// `'fixed'`: always exactly `precision` digits.
    Fixed,
    /// `'unique'`: the shortest digits that identify each value; `precision` is ignored.
    Unique,
    /// `'maxprec'` (numpy's default): at most `precision` digits, as few as each value needs,
    /// padded with spaces so the decimal points line up.
    #[default]
    Maxprec,
    /// `'maxprec_equal'`: at most `precision` digits, the same number for every element.
    MaxprecEqual,
}

/// numpy's `legacy` printing modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Legacy {
    /// `legacy='1.13'`: numpy 1.13's layout (sign space, 8 fixed digits in scientific notation,
    /// `...,` summaries, 0-d arrays printed as Python scalars).
    V1_13,
    /// `legacy='1.21'`: as 2.2 for the arrays printed here.
    V1_21,
    /// `legacy='1.25'`: as 2.2 for the arrays printed here (it changes only scalar reprs).
    V1_25,
    /// `legacy='2.1'`: as 2.2, and a summarised array's repr does not add `shape=`.
    V2_1,
    /// `legacy='2.2'`: float32 switches to scientific notation from 1e8, as float64 does.
    V2_2,
}

impl Legacy {
    /// numpy's internal number for the mode (`113` for `'1.13'`, ... `202` for `'2.2'`).
    fn level(legacy: Option<Self>) -> u32 {
        match legacy {
            Some(Self::V1_13) => 113,
            Some(Self::V1_21) => 121,
            Some(Self::V1_25) => 125,
            Some(Self::V2_1) => 201,
            Some(Self::V2_2) => 202,
            None => u32::MAX,
        }
    }
}

/// numpy's print options (`np.set_printoptions`), with numpy's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintOptions {
    /// Digits after the decimal point (at most, under [`FloatMode::Maxprec`]). Default 8.
    pub precision: usize,
    /// Arrays with more elements than this are summarised with `...`. Default 1000.
    pub threshold: usize,
    /// Items shown at the start and end of each summarised axis. Default 3.
    pub edgeitems: usize,
    /// Lines are wrapped to at most this many characters. Default 75.
    pub linewidth: usize,
    /// Never use scientific notation for small numbers (they print as zeros). Default false.
    pub suppress: bool,
    /// How signs are printed. Default [`Sign::Minus`].
    pub sign: Sign,
    /// How many fractional digits floats get. Default [`FloatMode::Maxprec`].
    pub floatmode: FloatMode,
    /// How NaN prints. Default `"nan"`.
    pub nanstr: String,
    /// How infinity prints. Default `"inf"`.
    pub infstr: String,
    /// A legacy layout, or `None` for the current one.
    pub legacy: Option<Legacy>,
}

impl Default for PrintOptions {
    fn default() -> Self {
        Self {
            precision: 8,
            threshold: 1000,
            edgeitems: 3,
            linewidth: 75,
            suppress: false,
            sign: Sign::Minus,
            floatmode: FloatMode::Maxprec,
            nanstr: "nan".to_owned(),
            infstr: "inf".to_owned(),
            legacy: None,
        }
    }
}

impl PrintOptions {
    /// The options as `np.set_printoptions` stores them: `legacy='1.13'` forces `sign='-'`
    /// (numpy 1.13 had no sign option). [`set_printoptions`] and [`printoptions`] apply this;
    /// [`format_array`] with explicit options does not, as `np.array2string` does not.
    ///
    /// ```
    /// use notes_tensor::{Legacy, PrintOptions, Sign};
    /// let o = PrintOptions { sign: Sign::Plus, legacy: Some(Legacy::V1_13), ..Default::default() };
    /// assert_eq!(o.normalized().sign, Sign::Minus);
    /// ```
    #[must_use]
    pub fn normalized(mut self) -> Self {
        if self.legacy == Some(Legacy::V1_13) {
            self.sign = Sign::Minus;
        }
        self
    }
}

static GLOBAL: RwLock<Option<PrintOptions>> = RwLock::new(None);

thread_local! {
    static SCOPED: RefCell<Vec<PrintOptions>> = const { RefCell::new(Vec::new()) };
}

/// Sets the process-wide default options, like `np.set_printoptions` (thread-safe).
pub fn set_printoptions(options: PrintOptions) {
    let mut global = GLOBAL
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *global = Some(options.normalized());
}

/// The options in force on this thread: the innermost [`printoptions`] override, else the
/// process-wide default.
pub fn get_printoptions() -> PrintOptions {
    if let Some(scoped) = SCOPED.with(|s| s.borrow().last().cloned()) {
        return scoped;
    }
    GLOBAL
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
        .unwrap_or_default()
}

/// Overrides the options on this thread until the returned guard is dropped, like numpy's
/// `with np.printoptions(...)`. Overrides nest.
///
/// ```
/// use notes_tensor::{PrintOptions, NumpyDisplayExt, printoptions};
/// let a = ndarray::arr1(&[1.0 / 3.0, 2.0]);
/// {
///     let _guard = printoptions(PrintOptions { precision: 3, ..PrintOptions::default() });
///     assert_eq!(a.numpy().to_string(), "[0.333 2.   ]");
/// }
/// assert_eq!(a.numpy().to_string(), "[0.33333333 2.        ]");
/// ```
pub fn printoptions(options: PrintOptions) -> PrintOptionsGuard {
    SCOPED.with(|s| s.borrow_mut().push(options.normalized()));
    PrintOptionsGuard {
        _not_send: std::marker::PhantomData,
    }
}

/// Restores the previous options when dropped (see [`printoptions`]).
#[derive(Debug)]
#[must_use = "the override ends when the guard is dropped"]
pub struct PrintOptionsGuard {
    // The override lives in a thread-local stack, so the guard must be dropped on its thread.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for PrintOptionsGuard {
    fn drop(&mut self) {
        SCOPED.with(|s| s.borrow_mut().pop());
    }
}

mod sealed {
    pub trait Sealed {}
}

/// An element type that prints like numpy: bool, the integer types, `f32` and `f64`.
pub trait NumpyElement: sealed::Sealed + Copy {
    /// numpy's name for the element type (`"float32"`, `"int64"`, `"bool"`, ...).
    const DTYPE: &'static str;

    /// The formatter numpy would build for the displayed elements `data`.
    #[doc(hidden)]
    fn formatter<'o>(data: &[Self], options: &'o PrintOptions) -> Box<dyn Fn(Self) -> String + 'o>;

    /// `str()` of a numpy scalar of this type (how 0-d arrays print).
    #[doc(hidden)]
    fn scalar_str(self, options: &PrintOptions) -> String;
}

macro_rules! int_element {
    ($($t:ty => $name:literal),*) => {$(
        impl sealed::Sealed for $t {}
        impl NumpyElement for $t {
            const DTYPE: &'static str = $name;
            fn formatter<'o>(data: &[Self], options: &'o PrintOptions) -> Box<dyn Fn(Self) -> String + 'o> {
                let wide: Vec<i128> = data.iter().map(|&v| i128::from(v)).collect();
                let f = IntFormat::new(&wide, options.sign);
                Box::new(move |v| f.format(i128::from(v)))
            }
            fn scalar_str(self, _: &PrintOptions) -> String {
                self.to_string()
            }
        }
    )*};
}

int_element!(i8 => "int8", i16 => "int16", i32 => "int32", i64 => "int64",
             u8 => "uint8", u16 => "uint16", u32 => "uint32", u64 => "uint64");

impl sealed::Sealed for bool {}
impl NumpyElement for bool {
    const DTYPE: &'static str = "bool";
    fn formatter<'o>(_: &[Self], _: &'o PrintOptions) -> Box<dyn Fn(Self) -> String + 'o> {
        Box::new(|v| if v { " True" } else { "False" }.to_owned())
    }
    fn scalar_str(self, _: &PrintOptions) -> String {
        if self { "True" } else { "False" }.to_owned()
    }
}

/// numpy's `IntegerFormat`: one width for all, from the largest and smallest displayed value.
struct IntFormat {
    sign: Sign,
    width: usize,
}

impl IntFormat {
    fn new(data: &[i128], sign: Sign) -> Self {
        let (Some(&max), Some(&min)) = (data.iter().max(), data.iter().min()) else {
            return Self { sign, width: 0 };
        };
        let mut sign = sign;
        let mut max_len = max.to_string().len();
        if sign == Sign::Space && min < 0 {
            sign = Sign::Minus;
        }
        if max >= 0 && sign != Sign::Minus {
            max_len += 1;
        }
        Self {
            sign,
            width: max_len.max(min.to_string().len()),
        }
    }

    fn format(&self, v: i128) -> String {
        let s = match (self.sign, v >= 0) {
            (Sign::Plus, true) => format!("+{v}"),
            (Sign::Space, true) => format!(" {v}"),
            _ => v.to_string(),
        };
        format!("{s:>width$}", width = self.width)
    }
}

/// What numpy's Dragon4 needs from a float type.
trait Float:
    Copy + PartialOrd + fmt::Display + fmt::LowerExp + std::ops::Div<Output = Self> + std::str::FromStr
{
    const ZERO: Self;
    /// numpy's `1e-4` and `1000.`, as this type (numpy compares in the array's dtype).
    const TEN_THOUSANDTH: Self;
    const THOUSAND: Self;
    /// Where arrays switch to scientific notation: `10.**min(8, finfo.precision)`.
    const EXP_CUTOFF: Self;
    const LEGACY_EXP_CUTOFF: Self;
    /// Where scalars (0-d arrays) switch to scientific notation.
    const SCALAR_CUTOFF: f64;
    fn abs(self) -> Self;
    fn is_finite(self) -> bool;
    fn is_nan(self) -> bool;
    fn is_sign_negative(self) -> bool;
    fn to_f64(self) -> f64;
}

macro_rules! float_impl {
    ($t:ty, $cutoff:expr, $scalar_cutoff:expr) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const TEN_THOUSANDTH: Self = 1e-4;
            const THOUSAND: Self = 1000.0;
            const EXP_CUTOFF: Self = $cutoff;
            const LEGACY_EXP_CUTOFF: Self = 1e8;
            const SCALAR_CUTOFF: f64 = $scalar_cutoff;
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            fn is_sign_negative(self) -> bool {
                <$t>::is_sign_negative(self)
            }
            fn to_f64(self) -> f64 {
                f64::from(self)
            }
        }
    };
}

float_impl!(f32, 1e6, 1e6);
float_impl!(f64, 1e8, 1e16);

macro_rules! float_element {
    ($($t:ty => $name:literal),*) => {$(
        impl sealed::Sealed for $t {}
        impl NumpyElement for $t {
            const DTYPE: &'static str = $name;
            fn formatter<'o>(data: &[Self], options: &'o PrintOptions) -> Box<dyn Fn(Self) -> String + 'o> {
                let f = FloatFormat::new(data, options);
                Box::new(move |v| f.format(v))
            }
            fn scalar_str(self, options: &PrintOptions) -> String {
                float_scalar_str(self, options)
            }
        }
    )*};
}

float_element!(f32 => "float32", f64 => "float64");

/// Dragon4's trim modes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Trim {
    /// `'k'`: keep trailing zeros.
    Keep,
    /// `'.'`: trim trailing zeros, keep the point.
    Dot,
    /// `'0'`: trim trailing zeros but keep one after the point.
    Zero,
    /// `'-'`: trim trailing zeros and the point.
    DotZeros,
}

fn trim_frac(frac: &str, trim: Trim) -> &str {
    match trim {
        Trim::Keep => frac,
        Trim::Dot | Trim::DotZeros => frac.trim_end_matches('0'),
        Trim::Zero => {
            let t = frac.trim_end_matches('0');
            if t.is_empty() { "0" } else { t }
        }
    }
}

/// Rust's shortest round-trip digits break an exact tie between two shortest candidates upward;
/// Dragon4 breaks it to the even digit. The exact value rounded half-to-even to the same number
/// of digits is Dragon4's choice whenever it round-trips.
fn tie_to_even<F: Float>(
    ax: F,
    shortest: String,
    exact: impl FnOnce(usize) -> String,
    nfrac: usize,
) -> String {
    let even = exact(nfrac);
    if even != shortest && even.parse::<F>().is_ok_and(|v| v == ax) {
        even
    } else {
        shortest
    }
}

/// Digits of |x| before and after the point, with the precision rules of Dragon4.
fn positional_digits<F: Float>(
    ax: F,
    precision: Option<usize>,
    min_digits: usize,
    unique: bool,
) -> String {
    if !unique {
        return format!("{:.*}", precision.unwrap_or(0), ax);
    }
    let shortest = ax.to_string();
    let nfrac = shortest.find('.').map_or(0, |dot| shortest.len() - dot - 1);
    let shortest = tie_to_even(ax, shortest, |n| format!("{ax:.n$}"), nfrac);
    match precision {
        Some(p) if nfrac > p => format!("{ax:.p$}"),
        _ if nfrac < min_digits => format!("{ax:.min_digits$}"),
        _ => shortest,
    }
}

#[allow(clippy::too_many_arguments)] // Mirrors numpy's dragon4_positional signature.
fn dragon4_positional<F: Float>(
    x: F,
    precision: Option<usize>,
    min_digits: usize,
    unique: bool,
    trim: Trim,
    plus: bool,
    pad_left: usize,
    pad_right: usize,
) -> String {
    let digits = positional_digits(x.abs(), precision, min_digits, unique);
    let (int, frac) = digits.split_once('.').unwrap_or((&digits, ""));
    let frac = trim_frac(frac, trim);
    let sign = if x.is_sign_negative() {
        "-"
    } else if plus {
        "+"
    } else {
        ""
    };
    let int = format!("{sign}{int}");
    let point = if trim == Trim::DotZeros && frac.is_empty() {
        ""
    } else {
        "."
    };
    format!("{int:>pad_left$}{point}{frac:<pad_right$}")
}

#[allow(clippy::too_many_arguments)] // Mirrors numpy's dragon4_scientific signature.
fn dragon4_scientific<F: Float>(
    x: F,
    precision: Option<usize>,
    min_digits: usize,
    unique: bool,
    trim: Trim,
    plus: bool,
    pad_left: usize,
    exp_digits: usize,
) -> String {
    let ax = x.abs();
    let s = if unique {
        let shortest = format!("{ax:e}");
        let mantissa = shortest.split_once('e').map_or("", |(m, _)| m);
        let nfrac = mantissa.find('.').map_or(0, |dot| mantissa.len() - dot - 1);
        let shortest = tie_to_even(ax, shortest, |n| format!("{ax:.n$e}"), nfrac);
        match precision {
            Some(p) if nfrac > p => format!("{ax:.p$e}"),
            _ if nfrac < min_digits => format!("{ax:.min_digits$e}"),
            _ => shortest,
        }
    } else {
        format!("{:.*e}", precision.unwrap_or(0), ax)
    };
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let frac = trim_frac(frac, trim);
    let sign = if x.is_sign_negative() {
        "-"
    } else if plus {
        "+"
    } else {
        ""
    };
    let int = format!("{sign}{int}");
    let (exp_sign, exp_abs) = match exp.strip_prefix('-') {
        Some(abs) => ('-', abs),
        None => ('+', exp),
    };
    let exp_digits = exp_digits.max(2);
    let point = if trim == Trim::DotZeros && frac.is_empty() {
        ""
    } else {
        "."
    };
    format!("{int:>pad_left$}{point}{frac}e{exp_sign}{exp_abs:0>exp_digits$}")
}

/// `str(np.float64(x))` / `str(np.float32(x))`, or Python's `str(float)` under legacy 1.13.
fn float_scalar_str<F: Float>(x: F, options: &PrintOptions) -> String {
    if options.legacy == Some(Legacy::V1_13) {
        return python_float_str(x.to_f64());
    }
    if x.is_nan() {
        return "nan".to_owned();
    }
    if !x.is_finite() {
        return if x.is_sign_negative() { "-inf" } else { "inf" }.to_owned();
    }
    // numpy compares in long double, so float32's 1e-4 (just below 1e-4) is scientific.
    let a = x.abs().to_f64();
    if a == 0.0 || (1e-4..F::SCALAR_CUTOFF).contains(&a) {
        dragon4_positional(x, None, 0, true, Trim::Zero, false, 0, 0)
    } else {
        dragon4_scientific(x, None, 0, true, Trim::DotZeros, false, 0, 0)
    }
}

/// Python's `repr(float)`: shortest digits, scientific below 1e-4 and from 1e16.
fn python_float_str(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    let sci = format!("{x:e}");
    let exp: i32 = sci
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    if x == 0.0 || (-4..16).contains(&exp) {
        let s = x.to_string();
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        dragon4_scientific(x, None, 0, true, Trim::DotZeros, false, 0, 0)
    }
}

/// numpy's `FloatingFormat`: one layout (positional or scientific, pads, digits) for all elements.
struct FloatFormat<'o> {
    exp_format: bool,
    precision: Option<usize>,
    min_digits: usize,
    unique: bool,
    trim: Trim,
    sign: Sign,
    pad_left: usize,
    pad_right: usize,
    exp_size: usize,
    options: &'o PrintOptions,
}

impl<'o> FloatFormat<'o> {
    fn new<F: Float>(data: &[F], options: &'o PrintOptions) -> Self {
        let legacy = options.legacy == Some(Legacy::V1_13);
        let mut sign = options.sign;
        if legacy && sign == Sign::Minus {
            sign = Sign::Space;
        }
        let mut f = Self {
            exp_format: false,
            precision: (options.floatmode != FloatMode::Unique).then_some(options.precision),
            min_digits: 0,
            unique: true,
            trim: Trim::Dot,
            sign,
            pad_left: 0,
            pad_right: 0,
            exp_size: 0,
            options,
        };
        let finite: Vec<F> = data.iter().copied().filter(|v| v.is_finite()).collect();
        let mut abs_non_zero = finite.iter().filter(|&&v| v != F::ZERO).map(|v| v.abs());
        if let Some(first) = abs_non_zero.next() {
            let (mut max, mut min) = (first, first);
            for v in abs_non_zero {
                if v > max {
                    max = v;
                }
                if v < min {
                    min = v;
                }
            }
            let cutoff = if Legacy::level(options.legacy) <= 202 {
                F::LEGACY_EXP_CUTOFF
            } else {
                F::EXP_CUTOFF
            };
            f.exp_format = max >= cutoff
                || (!options.suppress && (min < F::TEN_THOUSANDTH || max / min > F::THOUSAND));
        }
        let plus = sign == Sign::Plus;
        let fixed = options.floatmode == FloatMode::Fixed;
        if finite.is_empty() {
            f.trim = Trim::Dot;
        } else if f.exp_format {
            let (trim, unique) = if fixed || legacy {
                (Trim::Keep, false)
            } else {
                (Trim::Dot, true)
            };
            let (mut int_len, mut frac_len, mut exp_len) = (0, 0, 0);
            for &x in &finite {
                let s = dragon4_scientific(x, f.precision, 0, unique, trim, plus, 0, 0);
                let (mantissa, exp) = s.split_once('e').unwrap_or((&s, ""));
                let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
                int_len = int_len.max(int.len());
                frac_len = frac_len.max(frac.len());
                exp_len = exp_len.max(exp.len());
            }
            f.exp_size = exp_len.saturating_sub(1);
            f.trim = Trim::Keep;
            f.precision = Some(frac_len);
            f.min_digits = frac_len;
            f.unique = unique;
            f.pad_left = if legacy { 3 } else { int_len };
            f.pad_right = f.exp_size + 2 + frac_len;
        } else {
            let (trim, unique) = if fixed {
                (Trim::Keep, false)
            } else {
                (Trim::Dot, true)
            };
            let (mut int_len, mut frac_len) = (0, 0);
            for &x in &finite {
                let s = dragon4_positional(x, f.precision, 0, unique, trim, plus, 0, 0);
                let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
                let int_width = if legacy {
                    1 + int.trim_start_matches(['-', '+']).len()
                } else {
                    int.len()
                };
                int_len = int_len.max(int_width);
                frac_len = frac_len.max(frac.len());
            }
            f.pad_left = int_len;
            f.pad_right = frac_len;
            f.unique = unique;
            if matches!(
                options.floatmode,
                FloatMode::Fixed | FloatMode::MaxprecEqual
            ) {
                f.precision = Some(frac_len);
                f.min_digits = frac_len;
                f.trim = Trim::Keep;
            } else {
                f.trim = Trim::Dot;
                f.min_digits = 0;
            }
        }
        if !legacy && sign == Sign::Space && !finite.iter().any(|v| v.is_sign_negative()) {
            f.pad_left += 1;
        }
        if finite.len() != data.len() {
            let neginf = sign != Sign::Minus
                || data
                    .iter()
                    .any(|&v| !v.is_finite() && !v.is_nan() && v.is_sign_negative());
            let offset = f.pad_right + 1;
            let nan = options.nanstr.chars().count().saturating_sub(offset);
            let inf = (options.infstr.chars().count() + usize::from(neginf)).saturating_sub(offset);
            f.pad_left = f.pad_left.max(nan).max(inf);
        }
        f
    }

    fn format<F: Float>(&self, x: F) -> String {
        let plus = self.sign == Sign::Plus;
        if !x.is_finite() {
            let ret = if x.is_nan() {
                format!("{}{}", if plus { "+" } else { "" }, self.options.nanstr)
            } else {
                let sign = if x.is_sign_negative() {
                    "-"
                } else if plus {
                    "+"
                } else {
                    ""
                };
                format!("{sign}{}", self.options.infstr)
            };
            let width = self.pad_left + self.pad_right + 1;
            let pad = width.saturating_sub(ret.chars().count());
            return format!("{}{ret}", " ".repeat(pad));
        }
        if self.exp_format {
            dragon4_scientific(
                x,
                self.precision,
                self.min_digits,
                self.unique,
                self.trim,
                plus,
                self.pad_left,
                self.exp_size,
            )
        } else {
            dragon4_positional(
                x,
                self.precision,
                self.min_digits,
                self.unique,
                self.trim,
                plus,
                self.pad_left,
                self.pad_right,
            )
        }
    }
}

/// Formats `array` exactly as numpy's `print(array)` does under `options`.
///
/// ```
/// let a = ndarray::arr2(&[[1.5, -2.0], [f64::NAN, 0.25]]);
/// let text = notes_tensor::format_array(&a, &notes_tensor::PrintOptions::default());
/// assert_eq!(text, "[[ 1.5  -2.  ]\n [  nan  0.25]]");
/// ```
#[tracing::instrument(level = "debug", skip_all)]
pub fn format_array<A, S, D>(array: &ArrayBase<S, D>, options: &PrintOptions) -> String
where
    A: NumpyElement,
    S: Data<Elem = A>,
    D: Dimension,
{
    if array.ndim() == 0 {
        // numpy's array_str prints a 0-d array as its scalar.
        return array
            .iter()
            .next()
            .map_or_else(String::new, |&v| v.scalar_str(options));
    }
    array2string(array, options, " ", "", "")
}

/// numpy's `repr(array)` (`np.array_repr`) under `options`: `array([0.5 , 0.25])`, with
/// `dtype=` when the values do not imply it and `shape=` when they do not show it.
///
/// ```
/// use notes_tensor::{PrintOptions, format_repr};
/// let o = PrintOptions::default();
/// assert_eq!(format_repr(&ndarray::arr1(&[0.5, 0.25]), &o), "array([0.5 , 0.25])");
/// assert_eq!(
///     format_repr(&ndarray::arr2(&[[1.0_f32, 2.0], [3.0, 4.0]]), &o),
///     "array([[1., 2.],\n       [3., 4.]], dtype=float32)"
/// );
/// assert_eq!(
///     format_repr(&ndarray::Array2::<i64>::zeros((0, 3)), &o),
///     "array([], shape=(0, 3), dtype=int64)"
/// );
/// ```
#[tracing::instrument(level = "debug", skip_all)]
pub fn format_repr<A, S, D>(array: &ArrayBase<S, D>, options: &PrintOptions) -> String
where
    A: NumpyElement,
    S: Data<Elem = A>,
    D: Dimension,
{
    format_repr_in(array, ByteOrder::NATIVE, options)
}

/// The byte order of an array's items as numpy records it in its dtype (`'>i4'`, `'<f8'`).
///
/// The values of an `ndarray` are always native; this says what order the array they came from
/// had (a `.npy` file's header, a pickled array), which numpy's repr shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ByteOrder {
    /// Least significant byte first (`<`): x86-64, AArch64.
    Little,
    /// Most significant byte first (`>`).
    Big,
}

impl ByteOrder {
    /// This machine's byte order.
    pub const NATIVE: Self = if cfg!(target_endian = "big") {
        Self::Big
    } else {
        Self::Little
    };

    /// numpy's character for the order: `<` or `>`.
    pub fn as_char(self) -> char {
        match self {
            Self::Little => '<',
            Self::Big => '>',
        }
    }
}

/// numpy's type code for `A` in byte order `order` (`>i4`, `<f8`), or `None` for a type of
/// one byte, which has no byte order.
fn type_code<A: NumpyElement>(order: ByteOrder) -> Option<String> {
    let size = std::mem::size_of::<A>();
    let kind = match A::DTYPE.as_bytes().first() {
        _ if size <= 1 => return None,
        Some(b'u') => 'u',
        Some(b'i') => 'i',
        _ => 'f',
    };
    Some(format!("{}{kind}{size}", order.as_char()))
}

/// numpy's `repr(array)` of an array whose dtype has byte order `order`: as [`format_repr`],
/// except that a non-native dtype of more than one byte is always named, by its code, as numpy
/// names it: `np.arange(3, dtype='>i4')` is `array([0, 1, 2], dtype='>i4')` on a little-endian
/// machine (and `'<i4'` is named on a big-endian one).
///
/// ```
/// use notes_tensor::{ByteOrder, PrintOptions, format_repr_in};
/// let o = PrintOptions::default();
/// let a = ndarray::arr1(&[0_i32, 1, 2]);
/// let foreign = if ByteOrder::NATIVE == ByteOrder::Little { ByteOrder::Big } else { ByteOrder::Little };
/// let code = if foreign == ByteOrder::Big { "'>i4'" } else { "'<i4'" };
/// assert_eq!(format_repr_in(&a, foreign, &o), format!("array([0, 1, 2], dtype={code})"));
/// assert_eq!(format_repr_in(&a, ByteOrder::NATIVE, &o), "array([0, 1, 2], dtype=int32)");
/// ```
#[tracing::instrument(level = "debug", skip_all)]
pub fn format_repr_in<A, S, D>(
    array: &ArrayBase<S, D>,
    order: ByteOrder,
    options: &PrintOptions,
) -> String
where
    A: NumpyElement,
    S: Data<Elem = A>,
    D: Dimension,
{
    // numpy's dtype_short_repr: a non-native dtype by its str(), quoted; dtype_is_implied is
    // false for it.
    let foreign = if order == ByteOrder::NATIVE {
        None
    } else {
        type_code::<A>(order).map(|code| format!("'{code}'"))
    };
    let level = Legacy::level(options.legacy);
    let prefix = "array(";
    let lst = if level <= 113 && array.ndim() == 0 {
        // repr(a.item()): the Python scalar.
        array
            .iter()
            .next()
            .map_or_else(String::new, |&v| v.scalar_str(options))
    } else {
        array2string(array, options, ", ", prefix, ")")
    };
    let mut extras = Vec::new();
    if (array.is_empty() && array.shape() != [0])
        || (level > 210 && array.len() > options.threshold)
    {
        extras.push(format!("shape={}", python_tuple(array.shape())));
    }
    let implied = foreign.is_none()
        && (matches!(A::DTYPE, "int64" | "float64") || (A::DTYPE == "bool" && level > 113));
    if !implied || array.is_empty() {
        extras.push(format!("dtype={}", foreign.as_deref().unwrap_or(A::DTYPE)));
    }
    if extras.is_empty() {
        return format!("{prefix}{lst})");
    }
    let arr_str = format!("{prefix}{lst},");
    let extra_str = format!("{})", extras.join(", "));
    let last_line_len = arr_str.chars().count()
        - arr_str
            .rfind('\n')
            .map_or(0, |i| arr_str[..=i].chars().count());
    let spacer = if level > 113 && last_line_len + extra_str.chars().count() + 1 > options.linewidth
    {
        format!("\n{}", " ".repeat(prefix.len()))
    } else {
        " ".to_owned()
    };
    format!("{arr_str}{spacer}{extra_str}")
}

/// Python's `repr(shape)`: `(0, 3)`, `(0,)`, `()`.
fn python_tuple(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => {
            let items: Vec<String> = shape.iter().map(usize::to_string).collect();
            format!("({})", items.join(", "))
        }
    }
}

/// numpy's `np.array2string(array, separator=separator, prefix=prefix, suffix=suffix)` under
/// `options`: the prefix's length indents the lines after the first, the suffix's length is
/// kept free at the end of the last one. A 0-d array prints through the array formatter
/// (`1.e+16`), not as a scalar (`1e+16`) as [`format_array`] does.
///
/// ```
/// use notes_tensor::{PrintOptions, array2string};
/// let a = ndarray::arr2(&[[1, 2], [3, 4]]);
/// let o = PrintOptions::default();
/// assert_eq!(array2string(&a, &o, ", ", "M = ", ""), "[[1, 2],\n     [3, 4]]");
/// ```
#[tracing::instrument(level = "debug", skip_all)]
pub fn array2string<A, S, D>(
    array: &ArrayBase<S, D>,
    options: &PrintOptions,
    separator: &str,
    prefix: &str,
    suffix: &str,
) -> String
where
    A: NumpyElement,
    S: Data<Elem = A>,
    D: Dimension,
{
    let legacy = options.legacy == Some(Legacy::V1_13);
    let view = array.view().into_dyn();
    if legacy && view.ndim() == 0 {
        // repr(a.item()).
        return view
            .iter()
            .next()
            .map_or_else(String::new, |&v| v.scalar_str(options));
    }
    let mut linewidth = isize::try_from(options.linewidth).unwrap_or(isize::MAX);
    if !legacy {
        linewidth -= isize::try_from(suffix.chars().count()).unwrap_or(isize::MAX);
    }
    if view.is_empty() {
        return "[]".to_owned();
    }
    let summarize = view.len() > options.threshold;
    let edge = options.edgeitems;
    // The displayed indices of each axis: numpy's `_leading_trailing` corners.
    let shown: Vec<Vec<usize>> = view
        .shape()
        .iter()
        .map(|&len| {
            if summarize && len > edge.saturating_mul(2) {
                // numpy takes `a[-edgeitems:]` for the trailing corner, and `a[-0:]` is the
                // whole axis: with edgeitems=0 the widths come from every element.
                let trailing = if edge == 0 { 0 } else { len - edge };
                (0..edge).chain(trailing..len).collect()
            } else {
                (0..len).collect()
            }
        })
        .collect();
    let mut data = Vec::new();
    collect_corners(
        &view,
        &shown,
        &mut Vec::with_capacity(view.ndim()),
        &mut data,
    );
    let format = A::formatter(&data, options);
    // numpy's BoolFormat pads `True` to `False`'s width except in a 0-d array.
    let unpadded_bool = |v: A| format(v).trim_start().to_owned();
    let format: &dyn Fn(A) -> String = if view.ndim() == 0 && A::DTYPE == "bool" {
        &unpadded_bool
    } else {
        &*format
    };
    let printer = Printer {
        view: &view,
        format,
        summarize,
        edge,
        legacy,
        separator,
    };
    let next_line_prefix = " ".repeat(1 + prefix.chars().count());
    printer.recurse(
        &mut Vec::with_capacity(view.ndim()),
        &next_line_prefix,
        linewidth,
    )
}

fn collect_corners<A: Copy>(
    view: &ArrayViewD<'_, A>,
    shown: &[Vec<usize>],
    index: &mut Vec<usize>,
    out: &mut Vec<A>,
) {
    let axis = index.len();
    if axis == shown.len() {
        out.push(view[IxDyn(index)]);
        return;
    }
    for &i in &shown[axis] {
        index.push(i);
        collect_corners(view, shown, index, out);
        index.pop();
    }
}

/// numpy's `_formatArray` recursion.
struct Printer<'a, 'v, A> {
    view: &'a ArrayViewD<'v, A>,
    format: &'a dyn Fn(A) -> String,
    summarize: bool,
    edge: usize,
    legacy: bool,
    separator: &'a str,
}

impl<A: Copy> Printer<'_, '_, A> {
    fn recurse(&self, index: &mut Vec<usize>, hanging_indent: &str, curr_width: isize) -> String {
        let axis = index.len();
        let axes_left = self.view.ndim() - axis;
        if axes_left == 0 {
            return (self.format)(self.view[IxDyn(index)]);
        }
        let next_hanging_indent = format!("{hanging_indent} ");
        let next_width = if self.legacy {
            curr_width
        } else {
            curr_width - 1
        };
        let a_len = self.view.shape()[axis];
        let show_summary = self.summarize && self.edge.saturating_mul(2) < a_len;
        let (leading, trailing) = if show_summary {
            (self.edge, self.edge)
        } else {
            (0, a_len)
        };
        let child = |i: usize, index: &mut Vec<usize>| {
            index.push(i);
            let s = self.recurse(index, &next_hanging_indent, next_width);
            index.pop();
            s
        };
        let mut s = String::new();
        if axes_left == 1 {
            let sep_width = self.separator.trim_end().chars().count() as isize;
            let mut elem_width = if self.legacy {
                curr_width - sep_width
            } else {
                curr_width - sep_width.max(1)
            };
            let mut line = hanging_indent.to_owned();
            for i in 0..leading {
                let word = child(i, index);
                self.extend_line(&mut s, &mut line, &word, elem_width, hanging_indent);
                line.push_str(self.separator);
            }
            if show_summary {
                self.extend_line(&mut s, &mut line, "...", elem_width, hanging_indent);
                line.push_str(if self.legacy { ", " } else { self.separator });
            }
            for i in (2..=trailing).rev() {
                let word = child(a_len - i, index);
                self.extend_line(&mut s, &mut line, &word, elem_width, hanging_indent);
                line.push_str(self.separator);
            }
            if self.legacy {
                elem_width = curr_width;
            }
            let word = child(a_len - 1, index);
            self.extend_line(&mut s, &mut line, &word, elem_width, hanging_indent);
            s.push_str(&line);
        } else {
            let line_sep = format!(
                "{}{}",
                self.separator.trim_end(),
                "\n".repeat(axes_left - 1)
            );
            for i in 0..leading {
                let nested = child(i, index);
                s.push_str(hanging_indent);
                s.push_str(&nested);
                s.push_str(&line_sep);
            }
            if show_summary {
                s.push_str(hanging_indent);
                s.push_str("...");
                s.push_str(if self.legacy { ", \n" } else { &line_sep });
            }
            for i in (2..=trailing).rev() {
                let nested = child(a_len - i, index);
                s.push_str(hanging_indent);
                s.push_str(&nested);
                s.push_str(&line_sep);
            }
            let nested = child(a_len - 1, index);
            s.push_str(hanging_indent);
            s.push_str(&nested);
        }
        format!("[{}]", &s[hanging_indent.len()..])
    }

    /// numpy's `_extendLine` (our elements are always one line, so `_extendLine_pretty` is this).
    fn extend_line(
        &self,
        s: &mut String,
        line: &mut String,
        word: &str,
        line_width: isize,
        next_line_prefix: &str,
    ) {
        let line_len = line.chars().count();
        let mut needs_wrap = (line_len + word.chars().count()) as isize > line_width;
        if !self.legacy && line_len <= next_line_prefix.len() {
            // Do not wrap when it would not help.
            needs_wrap = false;
        }
        if needs_wrap {
            s.push_str(line.trim_end());
            s.push('\n');
            *line = next_line_prefix.to_owned();
        }
        line.push_str(word);
    }
}

/// An array that displays as numpy prints it (see [`NumpyDisplayExt`]).
pub struct NumpyDisplay<'a, S: Data, D: Dimension> {
    array: &'a ArrayBase<S, D>,
    options: Option<&'a PrintOptions>,
}

impl<S: Data, D: Dimension> fmt::Debug for NumpyDisplay<'_, S, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NumpyDisplay")
            .field("shape", &self.array.shape())
            .field("options", &self.options)
            .finish()
    }
}

impl<A, S, D> fmt::Display for NumpyDisplay<'_, S, D>
where
    A: NumpyElement,
    S: Data<Elem = A>,
    D: Dimension,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self.options {
            Some(options) => format_array(self.array, options),
            None => format_array(self.array, &get_printoptions()),
        };
        f.write_str(&text)
    }
}

/// `Display` for ndarray arrays, numpy-style: `println!("{}", a.numpy())`.
pub trait NumpyDisplayExt<S: Data, D: Dimension> {
    /// Displays with the options in force ([`get_printoptions`]) when formatted.
    fn numpy(&self) -> NumpyDisplay<'_, S, D>;
    /// Displays with the given options.
    fn numpy_display<'a>(&'a self, options: &'a PrintOptions) -> NumpyDisplay<'a, S, D>;
}

impl<A, S, D> NumpyDisplayExt<S, D> for ArrayBase<S, D>
where
    A: NumpyElement,
    S: Data<Elem = A>,
    D: Dimension,
{
    fn numpy(&self) -> NumpyDisplay<'_, S, D> {
        NumpyDisplay {
            array: self,
            options: None,
        }
    }

    fn numpy_display<'a>(&'a self, options: &'a PrintOptions) -> NumpyDisplay<'a, S, D> {
        NumpyDisplay {
            array: self,
            options: Some(options),
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array, arr0, arr1, arr2};

    use super::*;

    fn check<A: NumpyElement, S: Data<Elem = A>, D: Dimension>(
        a: &ArrayBase<S, D>,
        options: &PrintOptions,
        expected: &str,
    ) {
        assert_eq!(format_array(a, options), expected);
    }

    #[test]
    fn defaults_match_numpy() {
        let o = PrintOptions::default();
        check(&arr1(&[0.5, 0.25]), &o, "[0.5  0.25]");
        check(&arr1(&[1.0, 2.0]), &o, "[1. 2.]");
        check(
            &arr1(&[1e-5, 1.2e-5, 1e100]),
            &o,
            "[1.0e-005 1.2e-005 1.0e+100]",
        );
        check(
            &arr1(&[1.5, f64::NAN, f64::NEG_INFINITY, 100.0]),
            &o,
            "[  1.5   nan  -inf 100. ]",
        );
        check(&arr1(&[true, false]), &o, "[ True False]");
        check(&arr0(true), &o, "True");
        check(&arr0(1e16), &o, "1e+16");
        check(&arr0(1e15), &o, "1000000000000000.0");
        check(&arr0(1e-4_f32), &o, "1e-04");
        check(&arr1::<i64>(&[]), &o, "[]");
        check(
            &Array::from_iter(0..2000)
                .into_shape_with_order((2, 1000))
                .unwrap(),
            &o,
            "[[   0    1    2 ...  997  998  999]\n [1000 1001 1002 ... 1997 1998 1999]]",
        );
    }

    #[test]
    fn rounding_ties_go_to_even_on_the_exact_value() {
        let o = PrintOptions {
            precision: 2,
            ..PrintOptions::default()
        };
        check(
            &arr1(&[0.125, 2.675, 0.375, 1.005, 0.5]),
            &o,
            "[0.12 2.67 0.38 1.   0.5 ]",
        );
    }

    #[test]
    fn legacy_1_13() {
        let o = PrintOptions {
            legacy: Some(Legacy::V1_13),
            ..PrintOptions::default()
        };
        check(
            &arr1(&[1e-4_f32, 0.05, -1.0]),
            &o,
            "[  9.99999975e-05   5.00000007e-02  -1.00000000e+00]",
        );
        check(&arr0(0.1_f32), &o, "0.10000000149011612");
        check(
            &Array::from_iter(0..2000),
            &o,
            "[   0    1    2 ..., 1997 1998 1999]",
        );
    }

    #[test]
    fn scoped_override_nests_and_restores() {
        let a = arr2(&[[1, -2]]);
        let plus = PrintOptions {
            sign: Sign::Plus,
            ..PrintOptions::default()
        };
        let g = printoptions(plus);
        assert_eq!(a.numpy().to_string(), "[[+1 -2]]");
        {
            let _inner = printoptions(PrintOptions {
                sign: Sign::Space,
                ..PrintOptions::default()
            });
            assert_eq!(a.numpy().to_string(), "[[ 1 -2]]");
        }
        assert_eq!(a.numpy().to_string(), "[[+1 -2]]");
        drop(g);
        assert_eq!(a.numpy().to_string(), "[[ 1 -2]]");
    }
}
