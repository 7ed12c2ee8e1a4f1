//! The arguments of `notes run`, `timeout` and `spawn` (notes-proc), as clap derive types: parsing
//! only, the handlers in `cmd::proc` consume them.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// Arguments of `notes run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Print empty lines too (the notes keep only non-empty ones).
    #[arg(long)]
    pub(crate) keep_empty: bool,

    /// Kill what the command leaves running in the background when it exits (by default it
    /// runs on, as under a shell).
    #[arg(long)]
    pub(crate) kill_leftovers: bool,

    /// The command and its arguments (put `--` before them if they start with `-`).
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    pub(crate) command: Vec<OsString>,
}

/// Arguments of `notes timeout`.
#[derive(Debug, Args)]
pub(crate) struct TimeoutArgs {
    /// How long the command may run: 200ms, 4s, 1.5m, 1h 2m (a bare number is seconds);
    /// 0 means no time limit, as in GNU timeout.
    #[arg(value_parser = parse_duration)]
    pub(crate) duration: Duration,

    /// The signal sent to the command's process group at the deadline (TERM, KILL, INT, ...).
    #[arg(short, long, default_value = "TERM", value_name = "SIG")]
    pub(crate) signal: notes_proc::Signal,

    /// Send KILL this long after the signal to whatever of the group is still running
    /// (0: never).
    #[arg(short, long, value_parser = parse_duration, default_value = "1s", value_name = "DURATION")]
    pub(crate) kill_after: Duration,

    /// Let the command read the terminal and get its signals (Ctrl-C, Ctrl-Z), as GNU timeout
    /// --foreground does; at the deadline only the command is signalled, not its children.
    #[arg(long)]
    pub(crate) foreground: bool,

    /// Kill what the command leaves running in the background when it exits by itself (by
    /// default it runs on, as with GNU timeout; the tree is killed only at the deadline or on
    /// a signal).
    #[arg(long)]
    pub(crate) kill_leftovers: bool,

    /// Exit with the command's status even when the deadline ended it (128 + the signal that
    /// killed it), not 124, as GNU timeout --preserve-status.
    #[arg(long)]
    pub(crate) preserve_status: bool,

    /// The command and its arguments (put `--` before them if they start with `-`).
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    pub(crate) command: Vec<OsString>,
}

/// Arguments of `notes spawn`.
#[derive(Debug, Args)]
pub(crate) struct SpawnArgs {
    /// Append the command's standard output and error to FILE (default: this terminal, or
    /// /dev/null where notes' own output is not a terminal).
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// The command and its arguments (put `--` before them if they start with `-`).
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    pub(crate) command: Vec<OsString>,
}

/// Parses a duration as GNU timeout does (a floating-point number with an optional `s`, `m`,
/// `h` or `d` suffix: `2`, `1.5m`, `inf`, `1e400`), else with notes-time's parser (`200ms`,
/// `1h 2m`, `1h2m30s`). A duration too long to represent (`inf`, `infinity`, `1e400`,
/// `99999999999999999999`) is `Duration::MAX`: no limit in practice, as in GNU timeout.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let (number, scale) = match trimmed.as_bytes().last() {
        Some(b's') => (&trimmed[..trimmed.len() - 1], 1.0),
        Some(b'm') => (&trimmed[..trimmed.len() - 1], 60.0),
        Some(b'h') => (&trimmed[..trimmed.len() - 1], 3600.0),
        Some(b'd') => (&trimmed[..trimmed.len() - 1], 86400.0),
        _ => (trimmed, 1.0),
    };
    // A suffix after nothing, or after another unit ("ms"), is not GNU's grammar.
    let gnu = trimmed
        .parse::<f64>()
        .ok()
        .or_else(|| number.parse::<f64>().ok().map(|n| n * scale));
    if let Some(seconds) = gnu {
        if seconds.is_nan() || seconds < 0.0 {
            return Err(format!(
                "{text:?} is not a duration: seconds must be a number and not negative"
            ));
        }
        return Ok(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX));
    }
    notes_time::parse_std_duration(text).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::parse_duration;

    fn check(text: &str, expected: Result<Duration, &str>) {
        match (parse_duration(text), expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{text}"),
            (Err(got), Err(want)) => assert!(got.contains(want), "{text}: {got}"),
            (got, want) => panic!("{text}: got {got:?}, expected {want:?}"),
        }
    }

    #[test]
    fn durations_parse_like_the_notes_write_them() {
        check("200ms", Ok(Duration::from_millis(200)));
        check("4s", Ok(Duration::from_secs(4)));
        check("1.5m", Ok(Duration::from_secs(90)));
        check("1h 2m", Ok(Duration::from_secs(3720)));
        check("1h2m30s", Ok(Duration::from_secs(3750)));
        check(" 2 ", Ok(Duration::from_secs(2)));
        check("0.25", Ok(Duration::from_millis(250)));
        check("10us", Ok(Duration::from_micros(10)));
        check("1d", Ok(Duration::from_secs(86400)));
    }

    /// Defect D6: GNU timeout takes these as no limit in practice; they were refused.
    #[test]
    fn durations_too_long_to_represent_are_no_limit_as_in_gnu_timeout() {
        for text in [
            "inf",
            "infinity",
            "INF",
            "1e400",
            "99999999999999999999",
            "99999999999999999999d",
            "infs",
            "1e300h",
        ] {
            check(text, Ok(Duration::MAX));
        }
        check("2.5d", Ok(Duration::from_secs(216_000)));
    }

    #[test]
    fn bad_durations_say_what_is_wrong() {
        check("", Err("invalid duration"));
        check("abc", Err("invalid duration \"abc\""));
        check("5 parsecs", Err("unknown unit \"parsecs\""));
        check("1h 5", Err("invalid duration \"1h 5\""));
        check("-3s", Err("not negative"));
        check("-3", Err("not negative"));
        check("nan", Err("must be a number"));
        check("-inf", Err("not negative"));
        check("1..2s", Err("invalid duration \"1..2s\""));
    }
}
