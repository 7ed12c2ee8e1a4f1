//! Commands about `notes` itself: shell completions and the manual page.

use std::io::Write;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::Cli;
use crate::output::Out;

/// Arguments of `notes completions`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    shell: Shell,
}

/// `notes completions SHELL`: the completion script on stdout.
pub(crate) fn completions(args: &CompletionsArgs, out: &mut Out) -> anyhow::Result<()> {
    let mut command = Cli::command();
    // clap_complete panics when its writer fails (a closed pipe), so render to memory first.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "notes", &mut script);
    out.write_all(&script)?;
    Ok(())
}

/// `notes man`: the roff manual page on stdout (`notes man | man -l -`).
pub(crate) fn man(out: &mut Out) -> anyhow::Result<()> {
    let command = Cli::command();
    clap_mangen::Man::new(command).render(out)?;
    Ok(())
}
