//! Concise durations: parsing `" 1h  9m 46s"`-style text and formatting it back.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::TimeDelta;

use crate::error::{Error, ParseErrorKind, Result};

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// The largest magnitude a `TimeDelta` holds, in nanoseconds (`i64::MAX` milliseconds).
const MAX_NANOS: i128 = i64::MAX as i128 * 1_000_000;

/// A signed duration written the way the notes' `units.time_concise` writes it.
///
/// It wraps a [`chrono::TimeDelta`] (nanosecond precision, about ±292 million years).
/// [`Display`](fmt::Display) uses the notes' fixed-width style rounded to the nearest second
/// (`" 1h  9m 46s"`); [`ConciseDuration::format`] offers the compact style and other roundings.
///
/// ```
/// use notes_time::ConciseDuration;
///
/// let d: ConciseDuration = "1h9m46s".parse()?;
/// assert_eq!(d.to_string(), " 1h  9m 46s");
/// assert_eq!(d.delta().num_seconds(), 4186);
/// # Ok::<(), notes_time::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ConciseDuration(TimeDelta);

/// How [`ConciseDuration::format`] writes a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// The notes' `%2dh %2dm %2ds`: `" 1h  9m 46s"`, `"25h  0m  0s"`, `"-1h  9m 46s"`.
    /// Hours are never rolled into days, so columns of ETAs line up.
    #[default]
    Fixed,
    /// No padding and no zero parts: `"1h9m46s"`, `"25h"`, `"0s"`, `"-9m"`.
    Compact,
}

/// How a duration is rounded to whole seconds before it is formatted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rounding {
    /// To the nearest second, halves away from zero.
    #[default]
    Nearest,
    /// Towards negative infinity.
    Floor,
    /// Towards positive infinity (a conservative time left).
    Ceil,
    /// Towards zero, as Python's `int()`.
    Trunc,
}

/// Options of [`ConciseDuration::format`]; the default is the notes' fixed style, nearest second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FormatOptions {
    /// Fixed-width or compact.
    pub style: Style,
    /// How to reach whole seconds.
    pub rounding: Rounding,
}

impl ConciseDuration {
    /// The zero duration.
    pub const ZERO: Self = Self(TimeDelta::zero());

    /// Parses `"6h  1m 10s"`, `"1h9m46s"`, `"4186s"`, `"1d 2h"`, `"1.5h"`, `"200ms"`, `"-5m"`.
    ///
    /// A duration is an optional sign then one or more `<number><unit>` parts, largest unit
    /// first, each unit at most once; whitespace may surround and separate everything.
    /// A lone number without a unit is seconds (`"4186"` is `"4186s"`).
    /// Numbers are decimal with an optional fraction (`1.5`, `.25`); units are `d`, `h`, `m`,
    /// `s`, `ms`, `us` (or `µs`) and `ns`. Fractions finer than a nanosecond are truncated.
    ///
    /// # Errors
    /// [`Error::InvalidDuration`], whose column points at the offending part:
    /// `"6x"` gives `unknown unit "x" at column 2`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub fn parse(input: &str) -> Result<Self> {
        let nanos = parse_nanos(input, true)?;
        Ok(Self(
            delta_from_nanos(nanos).expect("parse_nanos bounds the total"),
        ))
    }

    /// Wraps a `TimeDelta`.
    pub const fn from_delta(delta: TimeDelta) -> Self {
        Self(delta)
    }

    /// A duration of `seconds` (may be negative or fractional), to the nanosecond.
    ///
    /// # Errors
    /// [`Error::InvalidSeconds`] for NaN, infinities and values beyond the range of `TimeDelta`.
    pub fn from_secs_f64(seconds: f64) -> Result<Self> {
        let invalid = || Error::InvalidSeconds { value: seconds };
        if !seconds.is_finite() || seconds.abs() * 1e9 > MAX_NANOS as f64 {
            return Err(invalid());
        }
        let nanos = (seconds * 1e9).round() as i128;
        delta_from_nanos(nanos).map(Self).ok_or_else(invalid)
    }

    /// The wrapped `TimeDelta`.
    pub const fn delta(self) -> TimeDelta {
        self.0
    }

    /// Whether the duration is below zero.
    pub fn is_negative(self) -> bool {
        self.0 < TimeDelta::zero()
    }

    /// The duration as a `std::time::Duration`.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] when the duration is negative.
    pub fn to_std(self) -> Result<Duration> {
        self.0.to_std().map_err(|_| Error::OutOfRange {
            what: format!(
                "the negative duration {} as a std::time::Duration",
                self.compact()
            ),
        })
    }

    /// Whole seconds after `rounding`.
    pub fn whole_seconds(self, rounding: Rounding) -> i64 {
        let nanos = nanos_of(self.0);
        let (q, r) = (
            nanos.div_euclid(NANOS_PER_SEC),
            nanos.rem_euclid(NANOS_PER_SEC),
        );
        let secs = match rounding {
            Rounding::Floor => q,
            Rounding::Ceil => q + i128::from(r != 0),
            Rounding::Trunc => {
                if nanos < 0 && r != 0 {
                    q + 1
                } else {
                    q
                }
            }
            Rounding::Nearest => {
                let away = if nanos < 0 {
                    r > NANOS_PER_SEC / 2
                } else {
                    r >= NANOS_PER_SEC / 2
                };
                q + i128::from(away)
            }
        };
        // |nanos| ≤ i64::MAX ms, so whole seconds fit an i64 with room to spare.
        secs as i64
    }

    /// Formats the duration in whole seconds, in the given style and rounding.
    ///
    /// ```
    /// use notes_time::{ConciseDuration, FormatOptions, Rounding, Style};
    ///
    /// let d = ConciseDuration::parse("-69m 45.5s")?;
    /// assert_eq!(d.to_string(), "-1h  9m 46s");
    /// let compact = FormatOptions { style: Style::Compact, rounding: Rounding::Trunc };
    /// assert_eq!(d.format(compact), "-1h9m45s");
    /// # Ok::<(), notes_time::Error>(())
    /// ```
    #[tracing::instrument(level = "debug", skip_all)]
    pub fn format(self, options: FormatOptions) -> String {
        let secs = self.whole_seconds(options.rounding);
        let sign = if secs < 0 { "-" } else { "" };
        let abs = secs.unsigned_abs();
        let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
        match options.style {
            Style::Fixed => {
                // The sign belongs to the hours field, so `-0h  0m 30s` keeps the width.
                let hours = format!("{sign}{h}");
                format!("{hours:>2}h {m:2}m {s:2}s")
            }
            Style::Compact => {
                if abs == 0 {
                    return "0s".to_owned();
                }
                let mut text = sign.to_owned();
                for (value, unit) in [(h, 'h'), (m, 'm'), (s, 's')] {
                    if value != 0 {
                        text.push_str(&value.to_string());
                        text.push(unit);
                    }
                }
                text
            }
        }
    }
}

impl ConciseDuration {
    /// The compact style at the nearest second, for messages.
    pub(crate) fn compact(self) -> String {
        self.format(FormatOptions {
            style: Style::Compact,
            rounding: Rounding::Nearest,
        })
    }
}

impl fmt::Display for ConciseDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format(FormatOptions::default()))
    }
}

impl FromStr for ConciseDuration {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl From<TimeDelta> for ConciseDuration {
    fn from(delta: TimeDelta) -> Self {
        Self(delta)
    }
}

impl From<ConciseDuration> for TimeDelta {
    fn from(d: ConciseDuration) -> Self {
        d.0
    }
}

/// Parses a non-negative duration (`"200ms"`, `"4s"`, `"1.5m"`, `"1h 2m"`) into a
/// `std::time::Duration`, for timeouts and sleeps.
///
/// The syntax is that of [`ConciseDuration::parse`] without a sign.
///
/// ```
/// use std::time::Duration;
///
/// assert_eq!(notes_time::parse_std_duration("200ms")?, Duration::from_millis(200));
/// assert_eq!(notes_time::parse_std_duration("1h 2m")?, Duration::from_secs(3720));
/// let err = notes_time::parse_std_duration("-4s").unwrap_err();
/// assert_eq!(err.to_string(), r#"invalid duration "-4s": a sign is not allowed (the duration must be non-negative) at column 1"#);
/// # Ok::<(), notes_time::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidDuration`] pointing at the offending column, including at a sign.
#[tracing::instrument(level = "debug", skip_all)]
pub fn parse_std_duration(input: &str) -> Result<Duration> {
    let nanos = parse_nanos(input, false)?;
    let secs = u64::try_from(nanos / NANOS_PER_SEC).expect("non-negative and bounded");
    let sub = u32::try_from(nanos % NANOS_PER_SEC).expect("below one second");
    Ok(Duration::new(secs, sub))
}

/// `a - b`: the notes' `diff(t_complete, t_current)`, the time left of a run.
///
/// # Errors
/// [`Error::OutOfRange`] if the difference does not fit a `TimeDelta`.
#[tracing::instrument(level = "debug", skip_all)]
pub fn diff(a: ConciseDuration, b: ConciseDuration) -> Result<ConciseDuration> {
    delta_from_nanos(nanos_of(a.0) - nanos_of(b.0))
        .map(ConciseDuration)
        .ok_or_else(|| Error::OutOfRange {
            what: format!("the difference {} - {}", a.compact(), b.compact()),
        })
}

/// `a + b·n`: the notes' `sum(current_remaining, t_complete, n)`, the time left of a batch.
///
/// # Errors
/// [`Error::OutOfRange`] if the total does not fit a `TimeDelta`.
#[tracing::instrument(level = "debug", skip_all)]
pub fn sum(a: ConciseDuration, b: ConciseDuration, n: u64) -> Result<ConciseDuration> {
    nanos_of(b.0)
        .checked_mul(i128::from(n))
        .and_then(|bn| bn.checked_add(nanos_of(a.0)))
        .and_then(delta_from_nanos)
        .map(ConciseDuration)
        .ok_or_else(|| Error::OutOfRange {
            what: format!("the sum {} + {} × {n}", a.compact(), b.compact()),
        })
}

pub(crate) fn nanos_of(delta: TimeDelta) -> i128 {
    // `subsec_nanos` carries the sign of the delta, so this is exact for negative values too.
    i128::from(delta.num_seconds()) * NANOS_PER_SEC + i128::from(delta.subsec_nanos())
}

pub(crate) fn delta_from_nanos(nanos: i128) -> Option<TimeDelta> {
    if nanos.unsigned_abs() > MAX_NANOS.unsigned_abs() {
        return None;
    }
    let secs = i64::try_from(nanos.div_euclid(NANOS_PER_SEC)).ok()?;
    let sub = u32::try_from(nanos.rem_euclid(NANOS_PER_SEC)).ok()?;
    TimeDelta::new(secs, sub)
}

/// The units, largest first, with their length in nanoseconds.
const UNITS: &[(&str, i128)] = &[
    ("d", 86_400 * NANOS_PER_SEC),
    ("h", 3_600 * NANOS_PER_SEC),
    ("m", 60 * NANOS_PER_SEC),
    ("s", NANOS_PER_SEC),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
];

/// Index into `UNITS` of a unit as written, accepting both micro signs for microseconds.
fn unit_rank(unit: &str) -> Option<usize> {
    let unit = match unit {
        "µs" | "μs" => "us",
        other => other,
    };
    UNITS.iter().position(|&(name, _)| name == unit)
}

/// A cursor over the characters of the input that knows its 1-based column.
struct Cursor<'a> {
    input: &'a str,
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    column: usize,
}

impl<'a> Cursor<'a> {
    fn new(input: &'a str) -> Self {
        Self {
            input,
            chars: input.char_indices().peekable(),
            column: 1,
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.chars.peek().map(|&(_, c)| c)
    }

    fn offset(&mut self) -> usize {
        self.chars.peek().map_or(self.input.len(), |&(i, _)| i)
    }

    fn bump(&mut self) {
        if self.chars.next().is_some() {
            self.column += 1;
        }
    }

    fn skip_while(&mut self, mut keep: impl FnMut(char) -> bool) -> &'a str {
        let start = self.offset();
        while self.peek().is_some_and(&mut keep) {
            self.bump();
        }
        let end = self.offset();
        &self.input[start..end]
    }

    fn error(&self, column: usize, kind: ParseErrorKind) -> Error {
        Error::InvalidDuration {
            input: self.input.to_owned(),
            column,
            kind,
        }
    }
}

/// Parses `input` into signed nanoseconds whose magnitude fits a `TimeDelta`.
fn parse_nanos(input: &str, allow_sign: bool) -> Result<i128> {
    let mut cur = Cursor::new(input);
    cur.skip_while(char::is_whitespace);
    let mut negative = false;
    if let Some(sign @ ('-' | '+')) = cur.peek() {
        if !allow_sign {
            return Err(cur.error(cur.column, ParseErrorKind::Sign));
        }
        negative = sign == '-';
        cur.bump();
    }
    let mut total: i128 = 0;
    let mut last: Option<usize> = None;
    loop {
        cur.skip_while(char::is_whitespace);
        let number_column = cur.column;
        match cur.peek() {
            None if last.is_some() => break,
            Some(c) if c.is_ascii_digit() || c == '.' => {}
            found => {
                let found = found.map(|_| {
                    cur.skip_while(|c| !c.is_whitespace())
                        .chars()
                        .take(16)
                        .collect()
                });
                return Err(cur.error(number_column, ParseErrorKind::ExpectedNumber { found }));
            }
        }
        let number_start = cur.offset();
        let whole = cur.skip_while(|c| c.is_ascii_digit());
        let mut fraction = "";
        if cur.peek() == Some('.') {
            cur.bump();
            fraction = cur.skip_while(|c| c.is_ascii_digit());
            if fraction.is_empty() && whole.is_empty() {
                let found = Some(".".to_owned());
                return Err(cur.error(number_column, ParseErrorKind::ExpectedNumber { found }));
            }
            if fraction.is_empty() {
                return Err(cur.error(cur.column, ParseErrorKind::ExpectedFractionDigit));
            }
        }
        let number = &input[number_start..cur.offset()];
        cur.skip_while(char::is_whitespace);
        let unit_column = cur.column;
        let unit = cur.skip_while(char::is_alphabetic);
        if unit.is_empty() && last.is_none() && cur.peek().is_none() {
            // A lone number is seconds, as `sleep 5` and systemd read it. After other parts
            // (`"1h 30"`) it stays an error: 30 minutes or 30 seconds is anyone's guess.
            return part_nanos(whole, fraction, NANOS_PER_SEC)
                .map(|v| if negative { -v } else { v })
                .ok_or_else(|| cur.error(number_column, ParseErrorKind::TooLarge));
        }
        if unit.is_empty() {
            let number = number.to_owned();
            return Err(cur.error(unit_column, ParseErrorKind::MissingUnit { number }));
        }
        let Some(rank) = unit_rank(unit) else {
            let unit = unit.to_owned();
            return Err(cur.error(unit_column, ParseErrorKind::UnknownUnit { unit }));
        };
        if let Some(prev) = last {
            if prev == rank {
                let unit = unit.to_owned();
                return Err(cur.error(unit_column, ParseErrorKind::RepeatedUnit { unit }));
            }
            if prev > rank {
                let (unit, after) = (unit.to_owned(), UNITS[prev].0.to_owned());
                return Err(cur.error(unit_column, ParseErrorKind::UnitOutOfOrder { unit, after }));
            }
        }
        last = Some(rank);
        let value = part_nanos(whole, fraction, UNITS[rank].1)
            .and_then(|v| total.checked_add(v))
            .filter(|&v| v <= MAX_NANOS);
        total = value.ok_or_else(|| cur.error(number_column, ParseErrorKind::TooLarge))?;
    }
    Ok(if negative { -total } else { total })
}

/// `whole.fraction × scale` in nanoseconds, truncated; `None` when it exceeds `MAX_NANOS`.
fn part_nanos(whole: &str, fraction: &str, scale: i128) -> Option<i128> {
    let mut value: i128 = 0;
    for d in whole.bytes() {
        value = value * 10 + i128::from(d - b'0');
        if value > MAX_NANOS {
            return None;
        }
    }
    let mut nanos = value.checked_mul(scale)?;
    // The largest scale is under 10^14 ns, so digits past the 18th change less than a
    // nanosecond; dropping them keeps the arithmetic in range.
    let mut frac: i128 = 0;
    let mut denom: i128 = 1;
    for d in fraction.bytes().take(18) {
        frac = frac * 10 + i128::from(d - b'0');
        denom *= 10;
    }
    nanos = nanos.checked_add(frac * scale / denom)?;
    (nanos <= MAX_NANOS).then_some(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &str) -> f64 {
        ConciseDuration::parse(s)
            .unwrap_or_else(|e| panic!("{s:?}: {e}"))
            .delta()
            .as_seconds_f64()
    }

    fn check(input: &str, seconds: f64, fixed: &str) {
        assert_eq!(secs(input), seconds, "{input:?}");
        assert_eq!(
            ConciseDuration::parse(input).unwrap().to_string(),
            fixed,
            "{input:?}"
        );
    }

    #[test]
    fn parses_the_notes_and_common_forms() {
        check("6h  1m 10s", 21_670.0, " 6h  1m 10s");
        check("4h 51m 24s", 17_484.0, " 4h 51m 24s");
        check(" 1h  9m 46s", 4_186.0, " 1h  9m 46s");
        check("1h9m46s", 4_186.0, " 1h  9m 46s");
        check("4186s", 4_186.0, " 1h  9m 46s");
        check("1d 2h", 93_600.0, "26h  0m  0s");
        check("1.5h", 5_400.0, " 1h 30m  0s");
        check("200ms", 0.2, " 0h  0m  0s");
        check("  7h 10m 56s  ", 25_856.0, " 7h 10m 56s");
        check("1 h 2 m", 3_720.0, " 1h  2m  0s");
        check(".5s", 0.5, " 0h  0m  1s");
        check("0s", 0.0, " 0h  0m  0s");
        check("59.5s", 59.5, " 0h  1m  0s");
        check("3599.5s", 3599.5, " 1h  0m  0s");
        check("100h", 360_000.0, "100h  0m  0s");
        check("-1h 9m 46s", -4_186.0, "-1h  9m 46s");
        check("+2m", 120.0, " 0h  2m  0s");
        check("- 30s", -30.0, "-0h  0m 30s");
        // A lone number is seconds.
        check("4186", 4_186.0, " 1h  9m 46s");
        check(" 4186.5 ", 4_186.5, " 1h  9m 47s");
        check("-90", -90.0, "-0h  1m 30s");
        check("0", 0.0, " 0h  0m  0s");
        check("1s 500ms 250us 125ns", 1.500_250_125, " 0h  0m  2s");
        check("3µs 2ns", 0.000_003_002, " 0h  0m  0s");
        check("1μs", 0.000_001, " 0h  0m  0s");
    }

    fn error(input: &str) -> String {
        ConciseDuration::parse(input).unwrap_err().to_string()
    }

    #[test]
    fn errors_point_at_the_offending_column() {
        let cases = [
            (
                "6x",
                r#"unknown unit "x" at column 2 (units: d, h, m, s, ms, us, ns)"#,
            ),
            (
                "6h 1x",
                r#"unknown unit "x" at column 5 (units: d, h, m, s, ms, us, ns)"#,
            ),
            (
                "1 hour",
                r#"unknown unit "hour" at column 3 (units: d, h, m, s, ms, us, ns)"#,
            ),
            (
                "",
                "expected a number, found the end of the input at column 1",
            ),
            (
                "   ",
                "expected a number, found the end of the input at column 4",
            ),
            (
                "-",
                "expected a number, found the end of the input at column 2",
            ),
            (
                "4186 1s",
                r#"missing unit after "4186" at column 6 (units: d, h, m, s, ms, us, ns)"#,
            ),
            (
                "1h 30",
                r#"missing unit after "30" at column 6 (units: d, h, m, s, ms, us, ns)"#,
            ),
            ("1h abc", r#"expected a number, found "abc" at column 4"#),
            ("h", r#"expected a number, found "h" at column 1"#),
            ("1.h", r#"expected a digit after "." at column 3"#),
            (". s", r#"expected a number, found "." at column 1"#),
            ("1h 2h", r#"unit "h" appears twice at column 5"#),
            (
                "1m 2h",
                r#"unit "h" comes after the smaller unit "m" at column 5 (write units from largest to smallest)"#,
            ),
            ("1h--", r#"expected a number, found "--" at column 3"#),
            ("é1s", r#"expected a number, found "é1s" at column 1"#),
            ("1s é", r#"expected a number, found "é" at column 4"#),
            (
                "99999999999999999999999d",
                "the duration is too large (over 292 million years) at column 1",
            ),
            (
                "1h 9999999999999999999s",
                "the duration is too large (over 292 million years) at column 4",
            ),
            (
                "106751991167d 300000h",
                "the duration is too large (over 292 million years) at column 15",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                error(input),
                format!("invalid duration {input:?}: {expected}")
            );
        }
    }

    #[test]
    fn std_durations_reject_signs() {
        assert_eq!(parse_std_duration("4s").unwrap(), Duration::from_secs(4));
        assert_eq!(parse_std_duration("1.5m").unwrap(), Duration::from_secs(90));
        assert_eq!(
            parse_std_duration(" 200ms").unwrap(),
            Duration::from_millis(200)
        );
        assert_eq!(
            parse_std_duration("1.000000001s").unwrap(),
            Duration::new(1, 1)
        );
        let err = parse_std_duration("  +4s").unwrap_err().to_string();
        assert!(
            err.ends_with("a sign is not allowed (the duration must be non-negative) at column 3"),
            "{err}"
        );
    }

    #[test]
    fn formats_fixed_and_compact_with_each_rounding() {
        let d = ConciseDuration::parse("1h 59m 59.5s").unwrap();
        let fmt = |style, rounding| d.format(FormatOptions { style, rounding });
        assert_eq!(fmt(Style::Fixed, Rounding::Nearest), " 2h  0m  0s");
        assert_eq!(fmt(Style::Fixed, Rounding::Floor), " 1h 59m 59s");
        assert_eq!(fmt(Style::Fixed, Rounding::Trunc), " 1h 59m 59s");
        assert_eq!(fmt(Style::Fixed, Rounding::Ceil), " 2h  0m  0s");
        assert_eq!(fmt(Style::Compact, Rounding::Nearest), "2h");
        assert_eq!(fmt(Style::Compact, Rounding::Floor), "1h59m59s");

        let neg = ConciseDuration::parse("-1.5s").unwrap();
        assert_eq!(neg.whole_seconds(Rounding::Nearest), -2);
        assert_eq!(neg.whole_seconds(Rounding::Floor), -2);
        assert_eq!(neg.whole_seconds(Rounding::Ceil), -1);
        assert_eq!(neg.whole_seconds(Rounding::Trunc), -1);
        let neg = ConciseDuration::parse("-1.4s").unwrap();
        assert_eq!(neg.whole_seconds(Rounding::Nearest), -1);

        let compact = FormatOptions {
            style: Style::Compact,
            ..FormatOptions::default()
        };
        assert_eq!(ConciseDuration::ZERO.format(compact), "0s");
        assert_eq!(
            ConciseDuration::parse("-9m").unwrap().format(compact),
            "-9m"
        );
        assert_eq!(
            ConciseDuration::parse("25h 1s").unwrap().format(compact),
            "25h1s"
        );
    }

    #[test]
    fn diff_and_sum_replay_the_notes() {
        let complete = ConciseDuration::parse("6h  1m 10s").unwrap();
        let current = ConciseDuration::parse("4h 51m 24s").unwrap();
        let left = diff(complete, current).unwrap();
        assert_eq!(left.to_string(), " 1h  9m 46s");
        assert_eq!(diff(current, complete).unwrap().to_string(), "-1h  9m 46s");
        assert_eq!(sum(left, complete, 1).unwrap().to_string(), " 7h 10m 56s");
        assert_eq!(sum(left, complete, 0).unwrap(), left);
        let max = ConciseDuration::from_delta(TimeDelta::MAX);
        let err = sum(max, max, 2).unwrap_err().to_string();
        assert!(
            err.starts_with("the sum ") && err.ends_with(" × 2 is out of range"),
            "{err}"
        );
        let min = ConciseDuration::from_delta(TimeDelta::MIN);
        assert!(diff(min, max).is_err());
    }

    #[test]
    fn seconds_from_floats() {
        assert_eq!(
            ConciseDuration::from_secs_f64(4186.0).unwrap().to_string(),
            " 1h  9m 46s"
        );
        assert_eq!(
            ConciseDuration::from_secs_f64(-0.25).unwrap().delta(),
            TimeDelta::milliseconds(-250)
        );
        for bad in [f64::NAN, f64::INFINITY, 1e30, -1e30] {
            assert!(ConciseDuration::from_secs_f64(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn extremes_round_trip() {
        for delta in [TimeDelta::MAX, TimeDelta::MIN, TimeDelta::zero()] {
            let secs = ConciseDuration::from_delta(delta).whole_seconds(Rounding::Trunc);
            let whole = ConciseDuration::from_delta(TimeDelta::seconds(secs));
            for style in [Style::Fixed, Style::Compact] {
                let text = whole.format(FormatOptions {
                    style,
                    rounding: Rounding::Trunc,
                });
                assert_eq!(ConciseDuration::parse(&text).unwrap(), whole, "{text}");
            }
        }
    }
}
