//! One module per area; each subcommand is a small function that calls a library and prints.

pub(crate) mod algo;
pub(crate) mod fs;
pub(crate) mod ipc;
pub(crate) mod meta;
pub(crate) mod proc;
pub(crate) mod prof;
pub(crate) mod tensor;
pub(crate) mod time;
pub(crate) mod tour;

use std::io::Write;

use crate::cli::{Cli, Command, UsageError};
use crate::output::Out;

/// Whether this process's command line, which did not parse, is a `notes timeout` one (read
/// again with clap's parse errors ignored).
pub(crate) fn is_timeout_command_line() -> bool {
    use clap::CommandFactory;

    Cli::command()
        .ignore_errors(true)
        .try_get_matches_from(std::env::args_os())
        .is_ok_and(|matches| matches.subcommand_name() == Some("timeout"))
}

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
    // The root of `notes --profile`'s call tree: every library call of the command is under it.
    let _span = tracing::debug_span!("notes", command = cli.command.name()).entered();
    match cli.command {
        Command::Tour(args) => tour::run(&args, &mut out)?,
        Command::Eta(args) => time::eta(&args, &mut out)?,
        Command::Duration(args) => time::duration(&args, &mut out)?,
        Command::Stamp(args) => time::stamp(&args, &mut out)?,
        Command::Primes(args) => algo::primes(&args, &mut out)?,
        Command::Flatten(args) => algo::flatten(&args, &mut out)?,
        Command::Permutations(args) => algo::permutations(&args, &mut out)?,
        Command::Bwt(args) => algo::bwt(&args, &mut out)?,
        Command::Find(args) => fs::find(&args, &mut out)?,
        Command::Rename(args) => fs::rename(&args, &mut out)?,
        Command::Delete(args) => fs::delete(&args, &mut out)?,
        Command::CleanFilename(args) => fs::clean_filename(&args, &mut out)?,
        Command::Extract(args) => fs::extract(&args, &mut out)?,
        Command::Run(args) => proc::run(&args, &mut out)?,
        Command::Timeout(args) => proc::timeout(&args)?,
        Command::Spawn(args) => proc::spawn(&args, &mut out)?,
        Command::Tensor(args) => tensor::run(&args, &mut out)?,
        Command::Echo(args) => ipc::echo(&args, &mut out)?,
        Command::Pickle(args) => ipc::pickle(&args, &mut out)?,
        Command::Prof(args) => prof::run(&args, &mut out)?,
        Command::Completions(args) => meta::completions(&args, &mut out)?,
        Command::Man(args) => meta::man(&args, &mut out)?,
    }
    out.flush()?;
    Ok(())
}

impl Command {
    /// The subcommand's name as typed.
    fn name(&self) -> &'static str {
        match self {
            Command::Tour(_) => "tour",
            Command::Eta(_) => "eta",
            Command::Duration(_) => "duration",
            Command::Stamp(_) => "stamp",
            Command::Primes(_) => "primes",
            Command::Flatten(_) => "flatten",
            Command::Permutations(_) => "permutations",
            Command::Bwt(_) => "bwt",
            Command::Find(_) => "find",
            Command::Rename(_) => "rename",
            Command::Delete(_) => "delete",
            Command::CleanFilename(_) => "clean-filename",
            Command::Extract(_) => "extract",
            Command::Run(_) => "run",
            Command::Timeout(_) => "timeout",
            Command::Spawn(_) => "spawn",
            Command::Tensor(_) => "tensor",
            Command::Echo(_) => "echo",
            Command::Pickle(_) => "pickle",
            Command::Prof(_) => "prof",
            Command::Completions(_) => "completions",
            Command::Man(_) => "man",
        }
    }

    /// Whether the subcommand prints data, and so honours `--json`.
    fn has_data_output(&self) -> bool {
        match self {
            Command::Eta(_)
            | Command::Duration(_)
            | Command::Stamp(_)
            | Command::Primes(_)
            | Command::Flatten(_)
            | Command::Permutations(_)
            | Command::Bwt(_)
            | Command::Find(_)
            | Command::CleanFilename(_)
            | Command::Extract(_)
            | Command::Run(_)
            | Command::Spawn(_)
            | Command::Pickle(_)
            | Command::Tensor(_)
            | Command::Prof(_) => true,
            Command::Tour(_)
            | Command::Timeout(_)
            | Command::Rename(_)
            | Command::Delete(_)
            | Command::Echo(_)
            | Command::Completions(_)
            | Command::Man(_) => false,
        }
    }
}
