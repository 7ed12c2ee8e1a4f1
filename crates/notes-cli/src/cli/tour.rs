//! The arguments of `notes tour`, as clap derive types (parsing only).

use clap::Args;
use clap::builder::PossibleValuesParser;

/// The names of the tour's sections, in the order of the notes: what `notes tour SECTION`
/// accepts. The handler's table of sections (`cmd::tour`) has one entry per name, in this
/// order (a test there checks it).
pub(crate) const SECTION_NAMES: &[&str] = &[
    "profiling",
    "eta",
    "multihead",
    "multihead-batched",
    "primes",
    "timestamped-filename",
    "source-dir",
    "create-dir",
    "clean-filename",
    "text-file",
    "context-manager",
    "find",
    "extract",
    "parallel-subprocess",
    "run-command",
    "call-with-timeout",
    "print-options",
    "rename",
    "delete",
    "flatten",
    "permutations",
    "bwt",
    "pickle",
    "socket",
];

/// Arguments of `notes tour`.
#[derive(Debug, Args)]
pub(crate) struct TourArgs {
    /// Run only these sections, in the order given (see --list).
    #[arg(value_name = "SECTION", value_parser = PossibleValuesParser::new(SECTION_NAMES))]
    pub(crate) sections: Vec<String>,

    /// List the sections (name and note) instead of running them.
    #[arg(long, conflicts_with = "sections")]
    pub(crate) list: bool,
}
