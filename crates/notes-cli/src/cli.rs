//! The command line, as clap derive types. Parsing only: behaviour lives in `cmd`.

use std::fmt;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cmd;

/// The Notes on Python, replayed as fast, safe Rust tools.
///
/// Each subcommand is one note of the seed, backed by a `notes-*` library crate.
/// Start with `notes tour`.
#[derive(Debug, Parser)]
#[command(
    name = "notes",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags every subcommand accepts, listed under their own heading in every `--help`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// Log more (repeat for more detail: -v info, -vv debug, -vvv trace). Overrides RUST_LOG.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,

    /// Log only errors, and print no warnings. Overrides RUST_LOG.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,

    /// When to colour output; `auto` colours a terminal unless NO_COLOR is set.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub(crate) color: ColorWhen,

    /// Print data as JSON (for subcommands whose output is data).
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// Profile this run of `notes` and write the stats to FILE (read it with `notes prof show FILE`).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) profile: Option<std::path::PathBuf>,
}

/// The `--color` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorWhen {
    /// Colour when the stream is a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The subcommands, one per note (or group of notes).
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Replay the notes in Rust: one titled section per implemented note.
    Tour(cmd::tour::TourArgs),

    /// Print time left and estimated finish of a batch of experiments.
    Eta(cmd::time::EtaArgs),

    /// Subtract, add or format concise durations like " 1h  9m 46s".
    Duration(cmd::time::DurationArgs),

    /// Print a timestamped file name: "2022-10-10 19-23-18.975783 Output.txt".
    Stamp(cmd::time::StampArgs),

    /// List, count and test primes: the primes below N, π(N), the K-th prime, a range.
    Primes(cmd::algo::PrimesArgs),

    /// Flatten an irregularly nested JSON list.
    #[command(about = "Flatten an irregularly nested JSON list: [[0, 1, [2]], 3] -> [0, 1, 2, 3]")]
    Flatten(cmd::algo::FlattenArgs),

    /// Print every permutation of a string's characters (--distinct, --count, --limit K).
    Permutations(cmd::algo::PermutationsArgs),

    /// Find files by extension (like fd; -u searches everything, like os.walk).
    Find(cmd::fs::FindArgs),

    /// Rename files with spaces to lowercase_with_underscores: a dry run unless --apply.
    Rename(cmd::fs::RenameArgs),

    /// Delete files without a kept extension (skipping .git): a dry run unless --apply.
    Delete(cmd::fs::DeleteArgs),

    /// Burrows-Wheeler transform of TEXT or a file (last column, index) and its inverse.
    Bwt(cmd::algo::BwtArgs),

    /// Replace every character that is not alphanumeric or allowed with `_`.
    CleanFilename(cmd::fs::CleanFilenameArgs),

    /// Print the part of a text file between a prefix and a suffix.
    Extract(cmd::fs::ExtractArgs),

    /// Run a command and pass its output on, empty lines left out; fail with its status.
    Run(cmd::proc::RunArgs),

    /// Run a command with a time limit, killing its whole process tree (exit 124).
    Timeout(cmd::proc::TimeoutArgs),

    /// Start a command detached (its own session) and print its pid.
    Spawn(cmd::proc::SpawnArgs),

    /// Multi-head matrix multiplication and numpy-identical printing of .npy arrays.
    Tensor(cmd::tensor::TensorArgs),

    /// Echo server and client over TCP, like the notes' echo-server.py and echo-client.py.
    Echo(cmd::ipc::EchoArgs),

    /// Inspect and convert Python pickle files safely (no code is run).
    Pickle(cmd::ipc::PickleArgs),

    /// Print and compare profiles written by `notes --profile FILE` (like pstats).
    Prof(cmd::prof::ProfArgs),

    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(cmd::meta::CompletionsArgs),

    /// Print the manual page (roff) to stdout, or a subcommand's (`notes man tour`).
    Man(cmd::meta::ManArgs),
}

/// A mistake in how `notes` was called that clap cannot see; reported like clap's (exit 2).
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Ends `notes` with exit status `code`, after printing `cause` (if any) as an error: how
/// `notes timeout` passes on its command's status.
#[derive(Debug)]
pub(crate) struct Exit {
    pub(crate) code: u8,
    pub(crate) cause: Option<anyhow::Error>,
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Some(cause) => write!(f, "{cause:#}"),
            None => write!(f, "exit status {}", self.code),
        }
    }
}

impl std::error::Error for Exit {}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
