//! Timestamps for file names: `2022-10-10 19-23-18.975783 Output.txt`.

use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, TimeZone};

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};

/// The default stamp: Python's `str(datetime.now())` with `-` instead of `:` and always six
/// fractional digits, so names are valid on Windows and sort in time order.
pub const DEFAULT_STAMP_FORMAT: &str = "%Y-%m-%d %H-%M-%S%.6f";

/// Characters Windows forbids in file names, besides control characters.
const FORBIDDEN: &[char] = &['<', '>', ':', '"', '/', '\\', '|', '?', '*'];

/// Whether file names cannot hold `c` on Windows.
fn unsafe_in_names(c: char) -> bool {
    c.is_control() || FORBIDDEN.contains(&c)
}

/// Options of [`timestamped_name_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StampOptions {
    /// A strftime pattern (see `chrono::format::strftime`); the default is
    /// [`DEFAULT_STAMP_FORMAT`].
    /// Names sort in time order when its fields go from year down to fraction with fixed
    /// widths, as the default's do.
    pub format: String,
    /// Put between the stamp and the name (not added when the name is empty); default `" "`.
    pub separator: String,
}

impl Default for StampOptions {
    fn default() -> Self {
        Self {
            format: DEFAULT_STAMP_FORMAT.to_owned(),
            separator: " ".to_owned(),
        }
    }
}

/// `name` prefixed with the current local time: `"2022-10-10 19-23-18.975783 Output.txt"`.
///
/// A path gets the stamp on its last component: `"results/x.txt"` becomes
/// `"results/2022-10-10 19-23-18.975783 x.txt"`.
///
/// The Rust counterpart of the notes' `"%s Output.txt" % datetime.datetime.now()`, without
/// the `:` that Windows refuses in file names.
///
/// ```
/// let name = notes_time::timestamped_name("Output.txt");
/// assert!(name.ends_with(" Output.txt"));
/// assert_eq!(name.len(), "2022-10-10 19-23-18.975783 Output.txt".len());
/// ```
pub fn timestamped_name(name: &str) -> String {
    // The default format is valid and yields only digits, `-`, ` ` and `.`: nothing to check.
    let stamp = SystemClock.now().format(DEFAULT_STAMP_FORMAT).to_string();
    prefixed(name, &stamp, " ")
}

/// `name` with `stamp` and `separator` put before its last path component, so that
/// `results/x.txt` becomes `results/<stamp> x.txt` rather than a name under `<stamp> results`.
/// An empty last component (`""`, `results/`) gets the stamp alone.
fn prefixed(name: &str, stamp: &str, separator: &str) -> String {
    let split = name
        .rfind(|c| c == '/' || (cfg!(windows) && c == '\\'))
        .map_or(0, |i| i + 1);
    let (dir, file) = name.split_at(split);
    let mut text = String::with_capacity(name.len() + stamp.len() + separator.len());
    text.push_str(dir);
    text.push_str(stamp);
    if !file.is_empty() {
        text.push_str(separator);
        text.push_str(file);
    }
    text
}

/// `name` prefixed with a stamp of `clock`'s time in `options.format` (on the last component
/// when `name` is a path, as in [`timestamped_name`]).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use notes_time::{timestamped_name_with, FixedClock, StampOptions};
///
/// let clock = FixedClock(Utc.with_ymd_and_hms(2022, 10, 10, 19, 23, 18).unwrap());
/// let name = timestamped_name_with("Output.txt", &StampOptions::default(), &clock)?;
/// assert_eq!(name, "2022-10-10 19-23-18.000000 Output.txt");
/// let options = StampOptions { format: "%Y%m%dT%H%M%S".into(), separator: "_".into() };
/// assert_eq!(timestamped_name_with("run.log", &options, &clock)?, "20221010T192318_run.log");
/// # Ok::<(), notes_time::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidStampFormat`] for a pattern chrono cannot format,
/// [`Error::UnsafeStamp`] when the stamp holds a character Windows forbids in file names,
/// [`Error::EmptyStamp`] when it is empty, and [`Error::UnsafeSeparator`] when the separator
/// holds such a character.
#[tracing::instrument(level = "debug", skip_all)]
pub fn timestamped_name_with<C: Clock>(
    name: &str,
    options: &StampOptions,
    clock: &C,
) -> Result<String>
where
    <C::Tz as TimeZone>::Offset: std::fmt::Display,
{
    if let Some(ch) = options.separator.chars().find(|&c| unsafe_in_names(c)) {
        return Err(Error::UnsafeSeparator {
            separator: options.separator.clone(),
            ch,
        });
    }
    let stamp = stamp(&clock.now(), &options.format)?;
    Ok(prefixed(name, &stamp, &options.separator))
}

/// `time` in the strftime pattern `format`, checked to be safe in a file name.
///
/// # Errors
/// As [`timestamped_name_with`].
pub fn stamp<Tz: TimeZone>(time: &DateTime<Tz>, format: &str) -> Result<String>
where
    Tz::Offset: std::fmt::Display,
{
    let invalid = || Error::InvalidStampFormat {
        format: format.to_owned(),
    };
    let items: Vec<Item<'_>> = StrftimeItems::new(format).parse().map_err(|_| invalid())?;
    let mut text = String::new();
    // Formatting fails for fields the value lacks; a `DateTime` has them all, but a
    // failure still becomes an error rather than a panic.
    write!(text, "{}", time.format_with_items(items.iter())).map_err(|_| invalid())?;
    if text.is_empty() {
        return Err(Error::EmptyStamp {
            format: format.to_owned(),
        });
    }
    if let Some(ch) = text.chars().find(|&c| unsafe_in_names(c)) {
        return Err(Error::UnsafeStamp {
            format: format.to_owned(),
            stamp: text,
            ch,
        });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::clock::FixedClock;

    fn clock() -> FixedClock<Utc> {
        let t = Utc.with_ymd_and_hms(2022, 10, 10, 19, 23, 18).unwrap();
        FixedClock(t + chrono::TimeDelta::microseconds(975_783))
    }

    #[test]
    fn default_stamp_matches_the_notes_without_colons() {
        let name = timestamped_name_with("Output.txt", &StampOptions::default(), &clock()).unwrap();
        assert_eq!(name, "2022-10-10 19-23-18.975783 Output.txt");
        let bare = timestamped_name_with("", &StampOptions::default(), &clock()).unwrap();
        assert_eq!(bare, "2022-10-10 19-23-18.975783");
    }

    #[test]
    fn paths_get_the_stamp_on_their_last_component() {
        let options = StampOptions::default();
        let check = |name: &str, want: &str| {
            assert_eq!(
                timestamped_name_with(name, &options, &clock()).unwrap(),
                want,
                "{name:?}"
            );
        };
        check("results/x.txt", "results/2022-10-10 19-23-18.975783 x.txt");
        check("/tmp/a b/x", "/tmp/a b/2022-10-10 19-23-18.975783 x");
        check("results/", "results/2022-10-10 19-23-18.975783");
        check("/", "/2022-10-10 19-23-18.975783");
        assert!(timestamped_name("out/Output.txt").starts_with("out/2"));
    }

    #[test]
    fn stamps_sort_in_time_order() {
        let base = Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap();
        let times = [
            0,
            1,
            999_999,
            1_000_000,
            86_400_000_000,
            40 * 86_400_000_000_i64,
        ];
        let stamps: Vec<String> = times
            .iter()
            .map(|&us| {
                stamp(
                    &(base + chrono::TimeDelta::microseconds(us)),
                    DEFAULT_STAMP_FORMAT,
                )
                .unwrap()
            })
            .collect();
        let mut sorted = stamps.clone();
        sorted.sort();
        assert_eq!(stamps, sorted);
    }

    #[test]
    fn unsafe_and_invalid_formats_are_errors() {
        let err = stamp(&clock().0, "%H:%M").unwrap_err().to_string();
        assert_eq!(
            err,
            r#"timestamp format "%H:%M" produces "19:23", whose ':' is not allowed in file names on Windows"#
        );
        assert!(stamp(&clock().0, "%Y/%m").is_err());
        assert!(stamp(&clock().0, "%T").is_err());
        let err = stamp(&clock().0, "%Q").unwrap_err().to_string();
        assert_eq!(
            err,
            r#"invalid timestamp format "%Q": not a valid strftime pattern"#
        );
        assert!(stamp(&clock().0, "%").is_err());
        assert_eq!(
            stamp(&clock().0, "").unwrap_err().to_string(),
            r#"timestamp format "" produces an empty stamp"#
        );
    }

    #[test]
    fn unsafe_separators_are_errors() {
        for (separator, ch) in [(":", ':'), ("/", '/'), ("a\\b", '\\'), ("\n", '\n')] {
            let options = StampOptions {
                separator: separator.into(),
                ..StampOptions::default()
            };
            let err = timestamped_name_with("x", &options, &clock()).unwrap_err();
            assert!(
                matches!(err, Error::UnsafeSeparator { ch: c, .. } if c == ch),
                "{separator:?}: {err}"
            );
        }
        let options = StampOptions {
            separator: "_".into(),
            ..StampOptions::default()
        };
        assert!(timestamped_name_with("x", &options, &clock()).is_ok());
    }
}
