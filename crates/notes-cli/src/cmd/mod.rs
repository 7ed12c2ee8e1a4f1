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

use crate::cli::{Cli, Command, Prints};
use crate::exit::UsageError;
use crate::output::Out;

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli) -> anyhow::Result<()> {
    let mut out = Out::stdout(cli.global.json);
    let name = cli.command.name();
    if out.json && cli.command.prints() != Prints::Data {
        return Err(UsageError(format!(
            "--json is not supported by `notes {}`: its output is not data",
            name
        ))
        .into());
    }
    // The root of `notes --profile`'s call tree: every library call of the command is under it.
    let _span = tracing::debug_span!("notes", command = name.as_str()).entered();
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
