//! The one error type of `notes-time`: every variant names the input it concerns.

use std::fmt;

/// What can go wrong in `notes-time`. Every variant names the input it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A duration string does not parse; `column` (1-based, in characters) points at the
    /// offending part of `input`.
    #[error("invalid duration {input:?}: {kind} at column {column}{}", kind.hint())]
    InvalidDuration {
        /// The string as given.
        input: String,
        /// 1-based character column of the offending part.
        column: usize,
        /// What is wrong there.
        kind: ParseErrorKind,
    },
    /// An arithmetic result (a sum, a difference, a finish time) does not fit the range of
    /// `chrono::TimeDelta` (about ±292 million years) or of a date.
    #[error("{what} is out of range")]
    OutOfRange {
        /// The quantity that overflowed, as a phrase: "the sum 1h + 2h × 3", ...
        what: String,
    },
    /// A number of seconds is not finite or too large to be a duration.
    #[error(
        "{value:e} is not a valid number of seconds: it must be finite and within ±292 million years"
    )]
    InvalidSeconds {
        /// The value as given.
        value: f64,
    },
    /// The counts given to [`Eta::new`](crate::Eta::new) cannot describe a running batch.
    #[error(
        "invalid counts: {done} done of {total} total leaves no run in progress (done must be less than total)"
    )]
    InvalidCounts {
        /// Runs already finished.
        done: u64,
        /// Runs in the batch.
        total: u64,
    },
    /// A duration that must not be negative (the length of a run, the time a run has taken).
    #[error("{what} is negative ({value}): a run's duration cannot be")]
    NegativeDuration {
        /// Which duration: "the complete run's duration" or "the current run's time".
        what: &'static str,
        /// The duration as formatted.
        value: String,
    },
    /// A timestamp format is not a valid strftime pattern.
    #[error("invalid timestamp format {format:?}: not a valid strftime pattern")]
    InvalidStampFormat {
        /// The format as given.
        format: String,
    },
    /// A timestamp format produces a character that file names cannot hold on Windows
    /// (`< > : " / \ | ? *` or a control character).
    #[error(
        "timestamp format {format:?} produces {stamp:?}, whose {ch:?} is not allowed in file names on Windows"
    )]
    UnsafeStamp {
        /// The format as given.
        format: String,
        /// What it produced.
        stamp: String,
        /// The first forbidden character.
        ch: char,
    },
    /// A timestamp format produces nothing (`""`, say): the name would not be stamped.
    #[error("timestamp format {format:?} produces an empty stamp")]
    EmptyStamp {
        /// The format as given.
        format: String,
    },
    /// The separator between stamp and name holds a character that file names cannot hold on
    /// Windows (`/` and `\` would also make the name a path).
    #[error("separator {separator:?} holds {ch:?}, which is not allowed in file names on Windows")]
    UnsafeSeparator {
        /// The separator as given.
        separator: String,
        /// The first forbidden character.
        ch: char,
    },
}

/// What is wrong at the column that [`Error::InvalidDuration`] points at.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// A number was expected; `found` is the text there (`None` at the end of the input).
    ExpectedNumber {
        /// Up to 16 characters of what stands where the number should be.
        found: Option<String>,
    },
    /// A `.` is not followed by a digit (`"1.h"`).
    ExpectedFractionDigit,
    /// A number has no unit after it (`"4186"`).
    MissingUnit {
        /// The number as written.
        number: String,
    },
    /// The unit is not one of `d h m s ms us µs ns`.
    UnknownUnit {
        /// The unit as written.
        unit: String,
    },
    /// The same unit appears twice (`"1h 2h"`).
    RepeatedUnit {
        /// The unit.
        unit: String,
    },
    /// Units must go from largest to smallest (`"1m 2h"`).
    UnitOutOfOrder {
        /// The unit that comes too late.
        unit: String,
        /// The smaller unit written before it.
        after: String,
    },
    /// The total does not fit a duration (more than about 292 million years).
    TooLarge,
    /// A sign (`-` or `+`) where a non-negative duration is required.
    Sign,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ExpectedNumber { found: None } => {
                f.write_str("expected a number, found the end of the input")
            }
            Self::ExpectedNumber { found: Some(text) } => {
                write!(f, "expected a number, found {text:?}")
            }
            Self::ExpectedFractionDigit => f.write_str("expected a digit after \".\""),
            Self::MissingUnit { number } => write!(f, "missing unit after {number:?}"),
            Self::UnknownUnit { unit } => write!(f, "unknown unit {unit:?}"),
            Self::RepeatedUnit { unit } => write!(f, "unit {unit:?} appears twice"),
            Self::UnitOutOfOrder { unit, after } => {
                write!(f, "unit {unit:?} comes after the smaller unit {after:?}")
            }
            Self::TooLarge => f.write_str("the duration is too large (over 292 million years)"),
            Self::Sign => f.write_str("a sign is not allowed (the duration must be non-negative)"),
        }
    }
}

impl ParseErrorKind {
    /// A hint that follows the column in the message, if any.
    fn hint(&self) -> &'static str {
        match self {
            Self::MissingUnit { .. } | Self::UnknownUnit { .. } => {
                " (units: d, h, m, s, ms, us, ns)"
            }
            Self::UnitOutOfOrder { .. } => " (write units from largest to smallest)",
            _ => "",
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
