#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod clock;
mod duration;
mod error;
mod eta;
mod stamp;

/// The chrono version this crate's API uses, so callers need not depend on it separately.
pub use chrono;

pub use clock::{Clock, FixedClock, SystemClock, UtcClock, WALL_CLOCK_FORMAT, future_time};
pub use duration::{
    ConciseDuration, FormatOptions, Rounding, Style, diff, parse_std_duration, sum,
};
pub use error::{Error, ParseErrorKind, Result};
pub use eta::{Estimator, Eta};
pub use stamp::{
    DEFAULT_STAMP_FORMAT, StampOptions, stamp, timestamped_name, timestamped_name_with,
};
