//! Where "now" comes from: the system clock in programs, a fixed instant in tests.

use chrono::{DateTime, Local, TimeZone, Utc};

use crate::duration::ConciseDuration;
use crate::error::{Error, Result};

/// The format of the notes' finish time, `2024-10-19 08:35:12` (local wall-clock time).
pub const WALL_CLOCK_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// A source of the current time, so that ETAs and timestamps can be tested deterministically.
pub trait Clock {
    /// The time zone of the times this clock returns.
    type Tz: TimeZone;

    /// The current time.
    fn now(&self) -> DateTime<Self::Tz>;
}

/// The system clock in the local time zone.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    type Tz = Local;

    fn now(&self) -> DateTime<Local> {
        Local::now()
    }
}

/// The system clock in UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct UtcClock;

impl Clock for UtcClock {
    type Tz = Utc;

    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one instant, for tests and reproducible output.
#[derive(Debug, Clone)]
pub struct FixedClock<Tz: TimeZone>(pub DateTime<Tz>);

impl<Tz: TimeZone> Clock for FixedClock<Tz> {
    type Tz = Tz;

    fn now(&self) -> DateTime<Tz> {
        self.0.clone()
    }
}

/// `now + d` on `clock`: the notes' `future_time(total_remaining)`.
///
/// The result keeps the clock's time zone, and its offset is the one in force at that
/// instant (a finish time after a daylight-saving change reads correctly on the wall clock).
/// Format it with [`WALL_CLOCK_FORMAT`] for the notes' layout.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use notes_time::{future_time, ConciseDuration, FixedClock, WALL_CLOCK_FORMAT};
///
/// let clock = FixedClock(Utc.with_ymd_and_hms(2024, 10, 19, 1, 24, 16).unwrap());
/// let finish = future_time(ConciseDuration::parse("7h 10m 56s")?, &clock)?;
/// assert_eq!(finish.format(WALL_CLOCK_FORMAT).to_string(), "2024-10-19 08:35:12");
/// # Ok::<(), notes_time::Error>(())
/// ```
///
/// # Errors
/// [`Error::OutOfRange`] when the result is beyond the dates chrono represents.
#[tracing::instrument(level = "debug", skip_all)]
pub fn future_time<C: Clock>(d: ConciseDuration, clock: &C) -> Result<DateTime<C::Tz>> {
    clock
        .now()
        .checked_add_signed(d.delta())
        .ok_or_else(|| Error::OutOfRange {
            what: format!(
                "the time {} from now",
                d.format(crate::FormatOptions {
                    style: crate::Style::Compact,
                    rounding: crate::Rounding::Nearest,
                })
            ),
        })
}
