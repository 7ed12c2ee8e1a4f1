//! Subcommands backed by `notes-time`: `notes eta`, `notes duration`, `notes stamp`.

use std::io::Write;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use notes_time::chrono::SecondsFormat;
use notes_time::{
    Clock, ConciseDuration, Eta, FormatOptions, Rounding, StampOptions, Style, SystemClock,
    UtcClock, WALL_CLOCK_FORMAT,
};
use serde::Serialize;

use crate::output::Out;

/// Arguments of `notes eta`.
#[derive(Debug, Args)]
pub(crate) struct EtaArgs {
    /// How long one complete run takes, e.g. "6h  1m 10s".
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true)]
    complete: ConciseDuration,

    /// How long the current run has been going, e.g. "4h 51m 24s".
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true)]
    current: ConciseDuration,

    /// How many runs have finished.
    #[arg(long, value_name = "N")]
    done: u64,

    /// How many runs there are in all (the current one included).
    #[arg(long, value_name = "N")]
    total: u64,

    #[command(flatten)]
    format: FormatArgs,
}

/// Arguments of `notes duration`.
#[derive(Debug, Args)]
pub(crate) struct DurationArgs {
    #[command(subcommand)]
    command: DurationCommand,
}

/// The `notes duration` subcommands.
#[derive(Debug, Subcommand)]
enum DurationCommand {
    /// Print A - B, e.g. the time left of a run: diff "6h  1m 10s" "4h 51m 24s".
    Diff {
        /// The duration to subtract from.
        #[arg(value_parser = parse_duration, allow_hyphen_values = true)]
        a: ConciseDuration,
        /// The duration to subtract.
        #[arg(value_parser = parse_duration, allow_hyphen_values = true)]
        b: ConciseDuration,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Print A + B × N, e.g. the time left of a batch: sum " 1h  9m 46s" "6h  1m 10s".
    Sum {
        /// The first duration.
        #[arg(value_parser = parse_duration, allow_hyphen_values = true)]
        a: ConciseDuration,
        /// The duration to add N times.
        #[arg(value_parser = parse_duration, allow_hyphen_values = true)]
        b: ConciseDuration,
        /// How many times to add B.
        #[arg(long, short = 'n', value_name = "N", default_value_t = 1)]
        times: u64,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Print a number of seconds (fractional or negative too) as a concise duration.
    Format {
        /// The number of seconds, e.g. 4186 or -0.5, or any duration, e.g. 4186s or 1.5h.
        #[arg(value_parser = parse_duration, allow_hyphen_values = true)]
        seconds: ConciseDuration,
        #[command(flatten)]
        format: FormatArgs,
    },
}

/// How durations are printed.
#[derive(Debug, Args)]
struct FormatArgs {
    /// Print "1h9m46s" instead of the notes' fixed-width " 1h  9m 46s".
    #[arg(long)]
    compact: bool,

    /// How to round to whole seconds.
    #[arg(long, value_enum, default_value_t = RoundArg::Nearest, value_name = "HOW")]
    round: RoundArg,
}

/// The `--round` choices.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoundArg {
    /// To the nearest second, halves away from zero.
    Nearest,
    /// Down, towards negative infinity.
    Floor,
    /// Up, towards positive infinity.
    Ceil,
    /// Towards zero.
    Trunc,
}

impl FormatArgs {
    fn options(&self) -> FormatOptions {
        FormatOptions {
            style: if self.compact {
                Style::Compact
            } else {
                Style::Fixed
            },
            rounding: match self.round {
                RoundArg::Nearest => Rounding::Nearest,
                RoundArg::Floor => Rounding::Floor,
                RoundArg::Ceil => Rounding::Ceil,
                RoundArg::Trunc => Rounding::Trunc,
            },
        }
    }
}

/// Arguments of `notes stamp`.
#[derive(Debug, Args)]
pub(crate) struct StampArgs {
    /// The file name to prefix with the time, e.g. "Output.txt" or "results/x.txt" (none: the stamp alone).
    #[arg(value_name = "NAME")]
    name: Option<String>,

    /// A strftime pattern for the stamp; it must not produce characters Windows forbids.
    #[arg(long, value_name = "PATTERN", default_value = notes_time::DEFAULT_STAMP_FORMAT)]
    format: String,

    /// Put this between the stamp and the name.
    #[arg(long, value_name = "TEXT", default_value = " ")]
    separator: String,

    /// Use UTC instead of the local time zone.
    #[arg(long)]
    utc: bool,
}

/// clap's value parser for durations: the library's error, column included.
fn parse_duration(text: &str) -> Result<ConciseDuration, notes_time::Error> {
    ConciseDuration::parse(text)
}

/// A duration in `--json` output: the text as printed and the exact seconds.
#[derive(Serialize)]
struct DurationJson {
    text: String,
    seconds: f64,
}

impl DurationJson {
    fn new(d: ConciseDuration, options: FormatOptions) -> Self {
        Self {
            text: d.format(options),
            seconds: d.delta().as_seconds_f64(),
        }
    }
}

/// `notes eta --complete D --current D --done N --total N`: the notes' three lines.
pub(crate) fn eta(args: &EtaArgs, out: &mut Out) -> anyhow::Result<()> {
    let eta = Eta::new(args.complete, args.current, args.done, args.total)
        .context("cannot estimate the finish time")?;
    let finish = eta
        .finish(&SystemClock)
        .context("cannot estimate the finish time")?;
    let options = args.format.options();
    if out.json {
        #[derive(Serialize)]
        struct Json {
            current_remaining: DurationJson,
            total_remaining: DurationJson,
            runs_after_current: u64,
            finish: String,
        }
        return out.json(&Json {
            current_remaining: DurationJson::new(eta.current_remaining, options),
            total_remaining: DurationJson::new(eta.total_remaining, options),
            runs_after_current: eta.runs_after_current,
            finish: finish.to_rfc3339_opts(SecondsFormat::Secs, false),
        });
    }
    let lines = [
        ("Time left (current)", eta.current_remaining.format(options)),
        ("Time left (total)", eta.total_remaining.format(options)),
        (
            "Estimated finish",
            finish.format(WALL_CLOCK_FORMAT).to_string(),
        ),
    ];
    for (label, value) in lines {
        writeln!(out, "{label:<19} = {value}")?;
    }
    Ok(())
}

/// `notes duration diff|sum|format`.
pub(crate) fn duration(args: &DurationArgs, out: &mut Out) -> anyhow::Result<()> {
    let (result, format) = match &args.command {
        DurationCommand::Diff { a, b, format } => (
            notes_time::diff(*a, *b).context("cannot subtract the durations")?,
            format,
        ),
        DurationCommand::Sum {
            a,
            b,
            times,
            format,
        } => (
            notes_time::sum(*a, *b, *times).context("cannot add the durations")?,
            format,
        ),
        DurationCommand::Format { seconds, format } => (*seconds, format),
    };
    let options = format.options();
    if out.json {
        return out.json(&DurationJson::new(result, options));
    }
    writeln!(out, "{}", result.format(options))?;
    Ok(())
}

/// `notes stamp [NAME]`: NAME prefixed with the current time, safe as a file name.
pub(crate) fn stamp(args: &StampArgs, out: &mut Out) -> anyhow::Result<()> {
    let options = StampOptions {
        format: args.format.clone(),
        separator: args.separator.clone(),
    };
    let name = args.name.as_deref().unwrap_or("");
    let name = if args.utc {
        stamped(name, &options, &UtcClock)
    } else {
        stamped(name, &options, &SystemClock)
    }
    .context("cannot make a timestamped name")?;
    if out.json {
        return out.json(&name);
    }
    writeln!(out, "{name}")?;
    Ok(())
}

fn stamped<C: Clock>(name: &str, options: &StampOptions, clock: &C) -> notes_time::Result<String>
where
    <C::Tz as notes_time::chrono::TimeZone>::Offset: std::fmt::Display,
{
    notes_time::timestamped_name_with(name, options, clock)
}
