//! The arguments of `notes find`, `rename`, `delete`, `clean-filename` and `extract` (notes-fs), as
//! clap derive types: parsing only, the handlers in `cmd::fs` consume them.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;

/// Arguments of `notes clean-filename`.
#[derive(Debug, Args)]
pub(crate) struct CleanFilenameArgs {
    /// The string to clean.
    pub(crate) name: String,

    /// Characters kept besides letters and digits.
    #[arg(long, value_name = "CHARS", default_value = notes_fs::DEFAULT_ALLOWED)]
    pub(crate) allow: String,
}

/// Arguments of `notes extract`.
#[derive(Debug, Args)]
pub(crate) struct ExtractArgs {
    /// The text file to read, or `-` for standard input.
    pub(crate) file: PathBuf,

    /// Start after the first occurrence of this text (default: the start of the file).
    #[arg(long)]
    pub(crate) prefix: Option<String>,

    /// End before the first occurrence of this text after the prefix (default: the end).
    #[arg(long)]
    pub(crate) suffix: Option<String>,

    /// Read at most this many bytes of FILE; a longer (or endless) input is an error.
    #[arg(long, value_name = "BYTES", default_value_t = notes_fs::DEFAULT_MAX_TEXT)]
    pub(crate) max_bytes: u64,
}

/// Arguments of `notes find`.
#[derive(Debug, Args)]
pub(crate) struct FindArgs {
    /// The directory to search.
    #[arg(default_value = ".")]
    pub(crate) root: PathBuf,

    /// Find files with this extension (repeatable; `wav` or `.wav`; none: every file).
    #[arg(short, long = "extension", value_name = "EXT")]
    pub(crate) extensions: Vec<OsString>,

    /// Search everything, like os.walk or find: hidden entries and ignored files too.
    #[arg(short, long)]
    pub(crate) unrestricted: bool,

    /// Include hidden files and directories.
    #[arg(short = 'H', long)]
    pub(crate) hidden: bool,

    /// Do not respect .gitignore and .ignore files.
    #[arg(short = 'I', long)]
    pub(crate) no_ignore: bool,

    /// Follow symbolic links (loops are reported, not followed).
    #[arg(short = 'L', long)]
    pub(crate) follow: bool,

    /// Descend at most this many levels (1: the root's own entries).
    #[arg(short = 'd', long, value_name = "N")]
    pub(crate) max_depth: Option<usize>,

    /// Print absolute paths.
    #[arg(short, long)]
    pub(crate) absolute: bool,

    /// Sort the paths instead of printing them in walk order.
    #[arg(short, long)]
    pub(crate) sort: bool,

    /// Compare extensions exactly (`WAV` is not `wav`).
    #[arg(long)]
    pub(crate) case_sensitive: bool,

    /// Walker threads (0: one per core; 1: serial, the same order in every run).
    #[arg(short = 'j', long, value_name = "N", default_value_t = 0)]
    pub(crate) threads: usize,

    /// Write the paths to this file (atomically) instead of stdout, like the notes' filenames.txt
    /// (`-`: stdout).
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// End each path with a NUL byte instead of a newline (for xargs -0).
    #[arg(short = '0', long)]
    pub(crate) print0: bool,

    /// Replace the --output file if it exists.
    #[arg(long, requires = "output")]
    pub(crate) force: bool,
}

/// Arguments of `notes rename`.
#[derive(Debug, Args)]
pub(crate) struct RenameArgs {
    /// The directory whose files (and with --dirs, directories) are renamed.
    #[arg(default_value = ".")]
    pub(crate) root: PathBuf,

    /// Replace FROM with TO in names (repeatable, applied in order; default: ' ' with '_').
    #[arg(long, num_args = 2, value_names = ["FROM", "TO"], action = clap::ArgAction::Append)]
    pub(crate) replace: Vec<String>,

    /// Lowercase the new names (the default).
    #[arg(long, overrides_with = "keep_case")]
    pub(crate) lowercase: bool,

    /// Keep the case of the new names.
    #[arg(long, overrides_with = "lowercase")]
    pub(crate) keep_case: bool,

    /// Apply the rule to every name, not only to names containing a --replace source.
    #[arg(long)]
    pub(crate) all: bool,

    /// Rename directories too (they go last, after everything inside them).
    #[arg(long)]
    pub(crate) dirs: bool,

    /// Rename (the default is a dry run that only prints the plan).
    #[arg(long, conflicts_with = "undo")]
    pub(crate) apply: bool,

    /// Leave out the entries involved in a conflict and rename the rest.
    #[arg(long)]
    pub(crate) skip_conflicts: bool,

    /// The journal --apply writes, or --undo reads (default: a new file in
    /// $XDG_STATE_HOME/notes/rename, else ~/.local/state/notes/rename).
    #[arg(long, value_name = "FILE")]
    pub(crate) journal: Option<PathBuf>,

    /// Restore every name recorded in a journal written by --apply. Without JOURNAL: list the
    /// recent journals and undo the latest one for ROOT (a directory given here is ROOT).
    #[arg(long, value_name = "JOURNAL", num_args = 0..=1)]
    pub(crate) undo: Option<Option<PathBuf>>,
}

/// Arguments of `notes delete`.
#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    /// The directory to clean.
    #[arg(default_value = ".")]
    pub(crate) root: PathBuf,

    /// Keep files with this extension, delete the others (repeatable; `pdf` keeps `A.PDF`).
    #[arg(short, long, value_name = "EXT", required_unless_present = "glob", value_parser = keep_extension)]
    pub(crate) keep_ext: Vec<String>,

    /// Delete files whose name matches this glob (repeatable, e.g. '*.tmp').
    #[arg(short, long, value_name = "PATTERN", value_parser = non_empty_pattern)]
    pub(crate) glob: Vec<String>,

    /// Delete (the default is a dry run that only lists the files).
    #[arg(long)]
    pub(crate) apply: bool,

    /// Move the files to the trash instead of deleting them (a dry run without --apply).
    #[arg(long)]
    pub(crate) trash: bool,
}

/// A `--keep-ext` value some file can have: an empty one (an unset shell variable) would keep
/// nothing and delete everything, so it is a usage error.
pub(crate) fn keep_extension(ext: &str) -> Result<String, String> {
    match notes_fs::unmatchable_extension(ext) {
        Some(why) => Err(format!("{ext:?} {why}; no file would be kept")),
        None => Ok(ext.to_owned()),
    }
}

/// A `--glob` value that is not empty.
pub(crate) fn non_empty_pattern(pattern: &str) -> Result<String, String> {
    if pattern.is_empty() {
        Err("the pattern is empty".to_owned())
    } else {
        Ok(pattern.to_owned())
    }
}
