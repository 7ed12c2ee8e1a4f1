//! The arguments of `notes eta`, `duration` and `stamp` (notes-time), as clap derive types: parsing
//! only, the handlers in `cmd::time` consume them.

use clap::{Args, Subcommand, ValueEnum};
use notes_time::{ConciseDuration, FormatOptions, Rounding, Style};

/// Arguments of `notes eta`.
#[derive(Debug, Args)]
pub(crate) struct EtaArgs {
    /// How long one complete run takes, e.g. "6h  1m 10s".
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true)]
    pub(crate) complete: ConciseDuration,

    /// How long the current run has been going, e.g. "4h 51m 24s".
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true)]
    pub(crate) current: ConciseDuration,

    /// How many runs have finished.
    #[arg(long, value_name = "N")]
    pub(crate) done: u64,

    /// How many runs there are in all (the current one included).
    #[arg(long, value_name = "N")]
    pub(crate) total: u64,

    #[command(flatten)]
    pub(crate) format: FormatArgs,
}

/// Arguments of `notes duration`.
#[derive(Debug, Args)]
pub(crate) struct DurationArgs {
    #[command(subcommand)]
    pub(crate) command: DurationCommand,
}

/// The `notes duration` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum DurationCommand {
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
pub(crate) struct FormatArgs {
    /// Print "1h9m46s" instead of the notes' fixed-width " 1h  9m 46s".
    #[arg(long)]
    pub(crate) compact: bool,

    /// How to round to whole seconds.
    #[arg(long, value_enum, default_value_t = RoundArg::Nearest, value_name = "HOW")]
    pub(crate) round: RoundArg,
}

/// The `--round` choices.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum RoundArg {
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
    pub(crate) fn options(&self) -> FormatOptions {
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
    pub(crate) name: Option<String>,

    /// A strftime pattern for the stamp; it must not produce characters Windows forbids.
    #[arg(long, value_name = "PATTERN", default_value = notes_time::DEFAULT_STAMP_FORMAT)]
    pub(crate) format: String,

    /// Put this between the stamp and the name.
    #[arg(long, value_name = "TEXT", default_value = " ")]
    pub(crate) separator: String,

    /// Use UTC instead of the local time zone.
    #[arg(long)]
    pub(crate) utc: bool,
}

/// clap's value parser for durations: the library's error, column included.
pub(crate) fn parse_duration(text: &str) -> Result<ConciseDuration, notes_time::Error> {
    ConciseDuration::parse(text)
}
