//! Estimated time left for a batch of experiments.

use std::time::Duration;

use chrono::DateTime;

use crate::clock::{Clock, future_time};
use crate::duration::{self, ConciseDuration};
use crate::error::{Error, Result};

/// The notes' three lines for a batch of equally long runs, one of which is in progress.
///
/// ```
/// use notes_time::{ConciseDuration, Eta};
///
/// let complete = ConciseDuration::parse("6h  1m 10s")?;
/// let current = ConciseDuration::parse("4h 51m 24s")?;
/// let eta = Eta::new(complete, current, 3, 5)?;
/// assert_eq!(eta.current_remaining.to_string(), " 1h  9m 46s");
/// assert_eq!(eta.total_remaining.to_string(), " 7h 10m 56s");
/// assert_eq!(eta.runs_after_current, 1);
/// # Ok::<(), notes_time::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eta {
    /// Time left of the run in progress; zero if it has already run longer than a complete one.
    pub current_remaining: ConciseDuration,
    /// Time left of the whole batch: the current run's remainder plus the runs not started.
    pub total_remaining: ConciseDuration,
    /// How many runs have not started yet: `total - (done + 1)`.
    pub runs_after_current: u64,
}

impl Eta {
    /// From the duration of one complete run, the elapsed time of the current one, how many
    /// runs are done and how many there are in total.
    ///
    /// A current run that has taken longer than `complete` counts as about to finish
    /// (zero left), so the total never shrinks below the runs still to start.
    ///
    /// # Errors
    /// [`Error::InvalidCounts`] unless `done < total` (a run must be in progress),
    /// [`Error::NegativeDuration`] if `complete` or `current` is negative, and
    /// [`Error::OutOfRange`] if the total overflows.
    pub fn new(
        complete: ConciseDuration,
        current: ConciseDuration,
        done: u64,
        total: u64,
    ) -> Result<Self> {
        if done >= total {
            return Err(Error::InvalidCounts { done, total });
        }
        for (what, value) in [
            ("the complete run's duration", complete),
            ("the current run's time", current),
        ] {
            if value.is_negative() {
                return Err(Error::NegativeDuration {
                    what,
                    value: value.compact(),
                });
            }
        }
        let runs_after_current = total - done - 1;
        let current_remaining = duration::diff(complete, current)?.max(ConciseDuration::ZERO);
        let total_remaining = duration::sum(current_remaining, complete, runs_after_current)?;
        Ok(Self {
            current_remaining,
            total_remaining,
            runs_after_current,
        })
    }

    /// When the batch should finish: now on `clock` plus the total time left.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] if the finish time is beyond chrono's dates.
    pub fn finish<C: Clock>(&self, clock: &C) -> Result<DateTime<C::Tz>> {
        future_time(self.total_remaining, clock)
    }
}

/// An updating ETA for progress bars: the mean time per finished item times the items left.
///
/// ```
/// use std::time::Duration;
/// use notes_time::Estimator;
///
/// let mut eta = Estimator::new(10);
/// assert_eq!(eta.remaining(), None);
/// eta.update(4, Duration::from_secs(20));
/// assert_eq!(eta.mean_per_item(), Some(Duration::from_secs(5)));
/// assert_eq!(eta.remaining(), Some(Duration::from_secs(30)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimator {
    total: u64,
    done: u64,
    elapsed: Duration,
}

impl Estimator {
    /// An estimator for `total` items, none done yet.
    pub fn new(total: u64) -> Self {
        Self {
            total,
            done: 0,
            elapsed: Duration::ZERO,
        }
    }

    /// Records that `done` items finished in `elapsed` since the start (`done` is capped at
    /// the total).
    pub fn update(&mut self, done: u64, elapsed: Duration) {
        self.done = done.min(self.total);
        self.elapsed = elapsed;
    }

    /// Items finished so far.
    pub fn done(&self) -> u64 {
        self.done
    }

    /// Items in all.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The mean time per finished item, `None` before the first one finishes.
    pub fn mean_per_item(&self) -> Option<Duration> {
        if self.done == 0 {
            return None;
        }
        let nanos = self.elapsed.as_nanos() / u128::from(self.done);
        Some(duration_from_nanos(nanos))
    }

    /// The estimated time left, `None` before the first item finishes.
    pub fn remaining(&self) -> Option<Duration> {
        if self.done == 0 {
            return None;
        }
        let left = u128::from(self.total - self.done);
        // Multiplying first keeps sub-nanosecond means exact; an overflow means an estimate
        // far beyond `Duration::MAX`, which saturates.
        let nanos = self
            .elapsed
            .as_nanos()
            .checked_mul(left)
            .map_or(u128::MAX, |n| n / u128::from(self.done));
        Some(duration_from_nanos(nanos))
    }

    /// When the last item should finish, on `clock`; `None` before the first item finishes.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] if the estimate is beyond chrono's range.
    pub fn finish<C: Clock>(&self, clock: &C) -> Result<Option<DateTime<C::Tz>>> {
        let Some(left) = self.remaining() else {
            return Ok(None);
        };
        let delta = chrono::TimeDelta::from_std(left).map_err(|_| Error::OutOfRange {
            what: format!("an estimate of {} s left", left.as_secs()),
        })?;
        future_time(ConciseDuration::from_delta(delta), clock).map(Some)
    }
}

/// A `Duration` of `nanos`, saturating at `Duration::MAX` (an absurd estimate, not a panic).
fn duration_from_nanos(nanos: u128) -> Duration {
    match u64::try_from(nanos / 1_000_000_000) {
        // The remainder of a division by 10^9 always fits a u32.
        Ok(secs) => Duration::new(secs, (nanos % 1_000_000_000) as u32),
        Err(_) => Duration::MAX,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, TimeZone};

    use super::*;
    use crate::clock::{FixedClock, WALL_CLOCK_FORMAT};

    fn d(s: &str) -> ConciseDuration {
        ConciseDuration::parse(s).unwrap()
    }

    #[test]
    fn replays_the_notes_example() {
        let eta = Eta::new(d("6h  1m 10s"), d("4h 51m 24s"), 3, 5).unwrap();
        let tz = FixedOffset::east_opt(3600).unwrap();
        let clock = FixedClock(tz.with_ymd_and_hms(2024, 10, 19, 1, 24, 16).unwrap());
        let finish = eta.finish(&clock).unwrap();
        assert_eq!(
            finish.format(WALL_CLOCK_FORMAT).to_string(),
            "2024-10-19 08:35:12"
        );
    }

    #[test]
    fn last_run_and_overdue_run() {
        let eta = Eta::new(d("1h"), d("20m"), 4, 5).unwrap();
        assert_eq!(eta.total_remaining, d("40m"));
        let eta = Eta::new(d("1h"), d("1h 5m"), 0, 3).unwrap();
        assert_eq!(eta.current_remaining, ConciseDuration::ZERO);
        assert_eq!(eta.total_remaining, d("2h"));
    }

    #[test]
    fn counts_without_a_run_in_progress_are_rejected() {
        for (done, total) in [(5, 5), (6, 5), (0, 0)] {
            let err = Eta::new(d("1h"), d("1m"), done, total).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("invalid counts: {done} done of {total} total")),
                "{err}"
            );
        }
    }

    #[test]
    fn negative_durations_are_rejected() {
        let err = Eta::new(d("1h"), d("-5m"), 0, 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the current run's time is negative (-5m): a run's duration cannot be"
        );
        let err = Eta::new(d("-1h"), d("0s"), 0, 3).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the complete run's duration is negative"),
            "{err}"
        );
    }

    #[test]
    fn estimator_caps_and_saturates() {
        let mut eta = Estimator::new(3);
        eta.update(7, Duration::from_secs(9));
        assert_eq!(eta.done(), 3);
        assert_eq!(eta.remaining(), Some(Duration::ZERO));
        let mut eta = Estimator::new(u64::MAX);
        eta.update(1, Duration::MAX);
        assert_eq!(eta.remaining(), Some(Duration::new(u64::MAX, 999_999_999)));
        let clock = FixedClock(chrono::Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
        assert!(eta.finish(&clock).is_err());
        let mut eta = Estimator::new(4);
        eta.update(1, Duration::from_secs(60));
        let finish = eta.finish(&clock).unwrap().unwrap();
        assert_eq!(
            finish.format(WALL_CLOCK_FORMAT).to_string(),
            "2024-01-01 00:03:00"
        );
    }
}
