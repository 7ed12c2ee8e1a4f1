//! One module per area; each subcommand is a small function that calls a library and prints.

pub(crate) mod algo;
pub(crate) mod fs;
pub(crate) mod meta;
pub(crate) mod prof;
pub(crate) mod tour;

use std::io::Write;

use crate::cli::{Cli, Command, UsageError};
use crate::output::Out;

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli) -> anyhow::Result<()> {
    let mut out = Out::stdout(cli.global.json);
    if out.json && !cli.command.has_data_output() {
        return Err(UsageError(format!(
            "--json is not supported by `notes {}`: its output is not data",
            cli.command.name()
        ))
        .into());
    }
    match cli.command {
        Command::Tour(args) => tour::run(&args, &mut out)?,
        Command::Flatten(args) => algo::flatten(&args, &mut out)?,
        Command::CleanFilename(args) => fs::clean_filename(&args, &mut out)?,
        Command::Extract(args) => fs::extract(&args, &mut out)?,
        Command::Prof(args) => prof::run(&args, &mut out)?,
        Command::Completions(args) => meta::completions(&args, &mut out)?,
        Command::Man => meta::man(&mut out)?,
    }
    out.flush()?;
    Ok(())
}

impl Command {
    /// The subcommand's name as typed.
    fn name(&self) -> &'static str {
        match self {
            Command::Tour(_) => "tour",
            Command::Flatten(_) => "flatten",
            Command::CleanFilename(_) => "clean-filename",
            Command::Extract(_) => "extract",
            Command::Prof(_) => "prof",
            Command::Completions(_) => "completions",
            Command::Man => "man",
        }
    }

    /// Whether the subcommand prints data, and so honours `--json`.
    fn has_data_output(&self) -> bool {
        match self {
            Command::Flatten(_)
            | Command::CleanFilename(_)
            | Command::Extract(_)
            | Command::Prof(_) => true,
            Command::Tour(_) | Command::Completions(_) | Command::Man => false,
        }
    }
}
