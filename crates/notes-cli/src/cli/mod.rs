//! The command line, as clap derive types: one module per area, as uv's `uv-cli`. Parsing only: the
//! handlers in `cmd` consume these types, and nothing here imports from `cmd`.

pub(crate) mod algo;
pub(crate) mod fs;
pub(crate) mod ipc;
pub(crate) mod meta;
pub(crate) mod proc;
pub(crate) mod prof;
pub(crate) mod tensor;
pub(crate) mod time;
pub(crate) mod tour;

use std::ffi::OsString;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::output::ColorWhen;

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

    /// Replace an existing --profile FILE (given before the subcommand, as `notes --profile
    /// FILE --force tour`; the subcommands that write files have their own --force).
    #[arg(long = "force", id = "force_profile", requires = "profile")]
    pub(crate) force_profile: bool,
}

/// What a subcommand prints: data (which `--json` turns into JSON) or text for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prints {
    /// Data: the subcommand honours `--json`.
    Data,
    /// Text, a report or side effects only: `--json` is a usage error.
    Text,
}

/// Declares the subcommand enum and, from the same lines, what each prints and its name, so
/// that adding a subcommand is one line here and nothing can fall out of step.
macro_rules! subcommands {
    ($( $(#[$attr:meta])* $variant:ident($args:ty) prints $prints:ident, )*) => {
        /// The subcommands, one per note (or group of notes).
        #[derive(Debug, Subcommand)]
        pub(crate) enum Command {
            $( $(#[$attr])* $variant($args), )*
        }

        /// The variants' names, in declaration order (clap's order of the subcommands).
        #[cfg(test)]
        const VARIANTS: &[&str] = &[$( stringify!($variant), )*];

        impl Command {
            /// The variant's name and what it prints.
            fn table(&self) -> (&'static str, Prints) {
                match self {
                    $( Command::$variant(_) => (stringify!($variant), prints!($prints)), )*
                }
            }
        }
    };
}

macro_rules! prints {
    (data) => {
        Prints::Data
    };
    (text) => {
        Prints::Text
    };
}

subcommands! {
    /// Replay the notes in Rust: one titled section per implemented note.
    Tour(tour::TourArgs) prints text,

    /// Print time left and estimated finish of a batch of experiments.
    Eta(time::EtaArgs) prints data,

    /// Subtract, add or format concise durations like " 1h  9m 46s".
    Duration(time::DurationArgs) prints data,

    /// Print a timestamped file name: "2022-10-10 19-23-18.975783 Output.txt".
    Stamp(time::StampArgs) prints data,

    /// List, count and test primes: the primes below N, π(N), the K-th prime, a range.
    Primes(algo::PrimesArgs) prints data,

    /// Flatten an irregularly nested JSON list.
    #[command(about = "Flatten an irregularly nested JSON list: [[0, 1, [2]], 3] -> [0, 1, 2, 3]")]
    Flatten(algo::FlattenArgs) prints data,

    /// Print every permutation of a string's characters (--distinct, --count, --limit K).
    Permutations(algo::PermutationsArgs) prints data,

    /// Find files by extension (like fd; -u searches everything, like os.walk).
    Find(fs::FindArgs) prints data,

    /// Rename files with spaces to lowercase_with_underscores: a dry run unless --apply.
    Rename(fs::RenameArgs) prints text,

    /// Delete files without a kept extension (skipping .git): a dry run unless --apply.
    Delete(fs::DeleteArgs) prints text,

    /// Burrows-Wheeler transform of TEXT or a file (last column, index) and its inverse.
    Bwt(algo::BwtArgs) prints data,

    /// Replace every character that is not alphanumeric or allowed with `_`.
    CleanFilename(fs::CleanFilenameArgs) prints data,

    /// Print the part of a text file between a prefix and a suffix.
    Extract(fs::ExtractArgs) prints data,

    /// Run a command and pass its output on, empty lines left out; fail with its status.
    Run(proc::RunArgs) prints data,

    /// Run a command with a time limit, killing its whole process tree (exit 124).
    Timeout(proc::TimeoutArgs) prints text,

    /// Start a command detached (its own session) and print its pid.
    Spawn(proc::SpawnArgs) prints data,

    /// Multi-head matrix multiplication and numpy-identical printing of .npy arrays.
    Tensor(tensor::TensorArgs) prints data,

    /// Echo server and client over TCP, like the notes' echo-server.py and echo-client.py.
    Echo(ipc::EchoArgs) prints text,

    /// Inspect and convert Python pickle files safely (no code is run).
    Pickle(ipc::PickleArgs) prints data,

    /// Print and compare profiles written by `notes --profile FILE` (like pstats).
    Prof(prof::ProfArgs) prints data,

    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(meta::CompletionsArgs) prints text,

    /// Print the manual page (roff) to stdout, or a subcommand's (`notes man tour`).
    Man(meta::ManArgs) prints text,
}

impl Command {
    /// The subcommand's name as typed: the variant's name in kebab-case, as clap derives it.
    pub(crate) fn name(&self) -> String {
        kebab_case(self.table().0)
    }

    /// Whether the subcommand prints data, and so honours `--json`.
    pub(crate) fn prints(&self) -> Prints {
        self.table().1
    }
}

/// `CleanFilename` -> `clean-filename`: clap's naming of derived subcommands.
fn kebab_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.char_indices() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// A command line that did not parse (or asked for help or the version): clap's error, and the
/// subcommand it names when that much could be read (`notes timeout` reports its own usage
/// errors with status 125).
#[derive(Debug)]
pub(crate) struct ParseFailure {
    pub(crate) error: clap::Error,
    pub(crate) subcommand: Option<String>,
}

/// Parses the command line `args` (program name first): clap's derive types, plus what they
/// cannot keep themselves, read from the same matches (the order of `prof show`'s restrictions).
/// `--color` applies to clap's own help and usage errors too.
pub(crate) fn parse(args: &[OsString]) -> Result<Cli, ParseFailure> {
    let mut command = Cli::command();
    let mut matches = match command.try_get_matches_from_mut(args) {
        Ok(matches) => matches,
        Err(error) => return Err(failure(error, &mut command, args)),
    };
    let order = prof::restriction_order(&matches);
    let mut cli = match Cli::from_arg_matches_mut(&mut matches) {
        Ok(cli) => cli,
        Err(error) => return Err(failure(error, &mut command, args)),
    };
    if let Command::Prof(prof) = &mut cli.command {
        prof.apply_restriction_order(&order);
    }
    Ok(cli)
}

/// The command line's definition in clap's lenient mode, with the help and version flags
/// turned off at every level (a plain `ignore_errors` still stops at `--help`).
fn lenient(command: clap::Command) -> clap::Command {
    command
        .ignore_errors(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .mut_subcommands(lenient)
}

/// What can still be read from a command line clap refused: `--color` (so that the error is
/// coloured as asked) and the subcommand, by clap's lenient mode on the same arguments.
fn failure(error: clap::Error, command: &mut clap::Command, args: &[OsString]) -> ParseFailure {
    let lenient = lenient(Cli::command()).try_get_matches_from(args).ok();
    let color = lenient
        .as_ref()
        .and_then(|m| m.try_get_one::<ColorWhen>("color").ok().flatten().copied());
    let subcommand = lenient
        .as_ref()
        .and_then(|m| m.subcommand_name().map(str::to_owned));
    let error = match color {
        Some(when) => {
            let mut colored = command.clone().color(when.into());
            error.format(&mut colored)
        }
        None => error,
    };
    ParseFailure { error, subcommand }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_is_named_as_clap_names_it() {
        let clap_names: Vec<String> = Cli::command()
            .get_subcommands()
            .map(|sub| sub.get_name().to_owned())
            .collect();
        let ours: Vec<String> = super::VARIANTS
            .iter()
            .map(|v| super::kebab_case(v))
            .collect();
        assert_eq!(ours, clap_names);
    }
}
