//! Subcommands backed by `notes-fs`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::output::Out;

/// Arguments of `notes clean-filename`.
#[derive(Debug, Args)]
pub(crate) struct CleanFilenameArgs {
    /// The string to clean.
    name: String,

    /// Characters kept besides letters and digits.
    #[arg(long, value_name = "CHARS", default_value = notes_fs::DEFAULT_ALLOWED)]
    allow: String,
}

/// `notes clean-filename STRING`.
#[tracing::instrument(skip_all)]
pub(crate) fn clean_filename(args: &CleanFilenameArgs, out: &mut Out) -> anyhow::Result<()> {
    let clean = notes_fs::clean_filename(&args.name, &args.allow);
    if out.json {
        return out.json(&clean);
    }
    writeln!(out, "{clean}")?;
    Ok(())
}

/// Arguments of `notes extract`.
#[derive(Debug, Args)]
pub(crate) struct ExtractArgs {
    /// The text file to read.
    file: PathBuf,

    /// Start after the first occurrence of this text (default: the start of the file).
    #[arg(long)]
    prefix: Option<String>,

    /// End before the first occurrence of this text after the prefix (default: the end).
    #[arg(long)]
    suffix: Option<String>,
}

/// `notes extract FILE --prefix P --suffix S`.
#[tracing::instrument(skip_all)]
pub(crate) fn extract(args: &ExtractArgs, out: &mut Out) -> anyhow::Result<()> {
    let text =
        notes_fs::extract_between(&args.file, args.prefix.as_deref(), args.suffix.as_deref())?;
    if out.json {
        return out.json(&text);
    }
    write!(out, "{text}")?;
    if !text.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}
