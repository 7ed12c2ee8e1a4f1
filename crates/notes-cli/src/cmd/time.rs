//! Subcommands backed by `notes-time`: `notes eta`, `notes duration`, `notes stamp`.

use std::io::Write;

use anyhow::Context;
use notes_time::chrono::SecondsFormat;
use notes_time::{
    Clock, ConciseDuration, Eta, FormatOptions, StampOptions, SystemClock, UtcClock,
    WALL_CLOCK_FORMAT,
};
use serde::Serialize;

use crate::cli::time::{DurationArgs, DurationCommand, EtaArgs, StampArgs};
use crate::output::Out;

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
