//! The arguments of `notes completions` and `notes man`, as clap derive types: parsing only, the
//! handlers in `cmd::meta` consume them.

use clap::Args;
use clap_complete::Shell;

/// Arguments of `notes completions`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub(crate) shell: Shell,
}

/// Arguments of `notes man`.
#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// A subcommand's page instead of the main one: `notes man tour` is notes-tour(1),
    /// `notes man prof show` is notes-prof-show(1).
    #[arg(value_name = "SUBCOMMAND")]
    pub(crate) subcommand: Vec<String>,
}
