//! Commands about `notes` itself: shell completions and the manual page.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::cli::meta::{CompletionsArgs, ManArgs};
use crate::exit::UsageError;
use crate::output::Out;

/// `notes completions SHELL`: the completion script on stdout.
pub(crate) fn completions(args: &CompletionsArgs, out: &mut Out) -> anyhow::Result<()> {
    let mut command = Cli::command();
    // clap_complete panics when its writer fails (a closed pipe), so render to memory first.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "notes", &mut script);
    out.write_all(&script)?;
    Ok(())
}

/// `notes man [SUBCOMMAND...]`: the roff manual page on stdout (`notes man | man -l -`).
pub(crate) fn man(args: &ManArgs, out: &mut Out) -> anyhow::Result<()> {
    let mut page = Cli::command();
    // Building names each subcommand `notes-<name>`, as the main page's SUBCOMMANDS list does.
    page.build();
    let mut path = String::from("notes");
    for name in &args.subcommand {
        let Some(sub) = page.find_subcommand(name).cloned() else {
            return Err(UsageError(format!(
                "`{path}` has no subcommand `{name}` (see `{} --help`)",
                path.replace('-', " ")
            ))
            .into());
        };
        path = format!("{path}-{}", sub.get_name());
        page = sub;
    }
    // Rendered to memory first, so that a failed write is reported like any other.
    let mut roff = Vec::new();
    clap_mangen::Man::new(page).render(&mut roff)?;
    out.write_all(&roff)?;
    Ok(())
}
