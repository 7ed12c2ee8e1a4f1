//! Subcommands backed by `notes-fs`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget};

use crate::cli::fs::{CleanFilenameArgs, DeleteArgs, ExtractArgs, FindArgs, RenameArgs};
use crate::output::{Out, stdout_error, warn};
use crate::progress;

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

/// `notes extract FILE --prefix P --suffix S`.
#[tracing::instrument(skip_all)]
pub(crate) fn extract(args: &ExtractArgs, out: &mut Out) -> anyhow::Result<()> {
    let (prefix, suffix) = (args.prefix.as_deref(), args.suffix.as_deref());
    let extracted = if crate::input::is_stdin(&args.file) {
        let text = crate::input::read_text(&args.file, args.max_bytes, "--max-bytes")?;
        notes_fs::extract_between_text(&text, std::path::Path::new("stdin"), prefix, suffix)
    } else {
        notes_fs::extract_between_with_limit(&args.file, prefix, suffix, args.max_bytes)
    };
    let text = extracted.map_err(|err| match err {
        notes_fs::Error::TooBig { path, limit } => anyhow::anyhow!(
            "{} is longer than {limit} bytes, the --max-bytes limit: nothing was extracted",
            notes_fs::Escaped(&path)
        ),
        err => err.into(),
    })?;
    if out.json {
        return out.json(&text);
    }
    write!(out, "{text}")?;
    if !text.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}

/// Prints a warning of a walk on stderr (the library returns them, it never prints).
/// `path` without the `./` of a `.` root, as fd and `notes find` print it.
fn shown<'a>(root: &Path, path: &'a Path) -> &'a Path {
    if root == Path::new(".") {
        path.strip_prefix(".").unwrap_or(path)
    } else {
        path
    }
}

/// A conflict as [`notes_fs::Conflict`]'s `Display` has it, with paths as [`shown`].
fn describe(root: &Path, conflict: &notes_fs::Conflict) -> String {
    let q = |p: &Path| format!("{:#}", notes_fs::Escaped(shown(root, p)));
    match conflict {
        notes_fs::Conflict::SameTarget { target, sources } => {
            let sources: Vec<_> = sources.iter().map(|s| q(s)).collect();
            format!("{} would all become {}", sources.join(", "), q(target))
        }
        notes_fs::Conflict::TargetExists { from, to } => {
            format!("{} would replace the existing {}", q(from), q(to))
        }
        other => other.to_string(),
    }
}

/// Standard output for paths, without `Out`'s colour stripping, which would also strip the
/// NULs of `-0` and control characters in names: paths are data and are written byte for byte.
///
/// Paths are held and written in blocks (tens of thousands of short lines: a large block
/// keeps the write calls few). When stdout is the terminal the progress line is drawn on, a
/// block goes through [`ProgressBar::suspend`], so that the line never lands among the paths:
/// one redraw per block, not one per path. Warnings held meanwhile go out with the block.
struct PathOut<'a> {
    stdout: std::io::StdoutLock<'static>,
    pending: Vec<u8>,
    warnings: Vec<notes_fs::Warning>,
    /// The progress bar to suspend while writing, if it may be drawn on the same terminal.
    bar: Option<&'a ProgressBar>,
}

impl<'a> PathOut<'a> {
    /// Flushes whatever `out` holds first, so the order of lines is kept.
    fn new(out: &mut Out, bar: Option<&'a ProgressBar>) -> std::io::Result<Self> {
        out.flush()?;
        Ok(Self {
            stdout: std::io::stdout().lock(),
            pending: Vec::with_capacity(PATH_BLOCK),
            warnings: Vec::new(),
            bar,
        })
    }

    /// Writes a path followed by `end`, the block when it is full.
    fn path(&mut self, path: &Path, end: u8) -> std::io::Result<()> {
        write_path(&mut self.pending, path, end)?;
        if self.pending.len() >= PATH_BLOCK {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the held paths and warnings.
    fn flush(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() && self.warnings.is_empty() {
            return Ok(());
        }
        let Self {
            stdout,
            pending,
            warnings,
            bar,
        } = self;
        let mut write = || {
            for warning in warnings.drain(..) {
                warn(&warning);
            }
            stdout.write_all(pending).map_err(stdout_error)?;
            pending.clear();
            stdout.flush().map_err(stdout_error)
        };
        match bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

/// The size of a block of paths written at once by [`PathOut`].
const PATH_BLOCK: usize = 64 * 1024;

/// Writes a path as its bytes (names that are not UTF-8 are written as they are).
fn write_path(out: &mut impl Write, path: &Path, end: u8) -> std::io::Result<()> {
    out.write_all(path.as_os_str().as_encoded_bytes())?;
    out.write_all(&[end])
}

/// A path in `notes find --json`'s output, losslessly: a JSON string when the path is UTF-8,
/// else an object `{"bytes": [104, 255, ...]}` with its bytes (on Windows, WTF-8), so a
/// script can act on exactly the file that was found (docs/find-files.md).
struct JsonPath<'a>(&'a Path);

impl serde::Serialize for JsonPath<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        match self.0.to_str() {
            Some(text) => serializer.serialize_str(text),
            None => {
                let mut object = serializer.serialize_struct("Path", 1)?;
                object.serialize_field("bytes", self.0.as_os_str().as_encoded_bytes())?;
                object.end()
            }
        }
    }
}

/// `notes find [ROOT] -e EXT...`.
pub(crate) fn find(args: &FindArgs, out: &mut Out) -> anyhow::Result<()> {
    if let Some(file) = &args.output {
        // Before the walk, so a long walk is not wasted on a refusal.
        crate::files::refuse_existing(file, args.force)?;
    }
    let options = notes_fs::FindOptions {
        unrestricted: args.unrestricted,
        hidden: args.hidden,
        no_ignore: args.no_ignore,
        follow_links: args.follow,
        max_depth: args.max_depth,
        absolute: args.absolute,
        sort: args.sort,
        case_sensitive: args.case_sensitive,
        threads: args.threads,
    };
    let end = if args.print0 { b'\0' } else { b'\n' };
    // The progress line (entries seen, matches) goes to stderr when it is a terminal, drawn by
    // a thread of its own once the walk has run for a while, a few times a second.
    let show = std::io::stderr().is_terminal();
    // Paths bound for a terminal go out at each redraw, not only when a block is full.
    let to_terminal = std::io::stdout().is_terminal();
    let ticking = show || to_terminal;
    let bar = progress::bar();
    let counts = progress::Counts::default();
    // Paths are streamed to stdout unless they must be sorted, collected for a file or JSON.
    let stream = !args.sort && args.output.is_none() && !out.json;
    let mut writer = PathOut::new(out, (show && to_terminal).then_some(&bar))?;
    let mut paths = Vec::new();
    let mut result = Ok(());
    let walked = std::thread::scope(|scope| {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        if ticking {
            let target = move || {
                if show {
                    progress::stderr()
                } else {
                    ProgressDrawTarget::hidden()
                }
            };
            let (bar, counts) = (&bar, &counts);
            scope.spawn(move || progress::draw(bar, counts, &stopped, target));
        }
        let walked = notes_fs::find_each(&args.root, &args.extensions, &options, |event| {
            match event {
                notes_fs::Event::Match(path) => {
                    counts.entry(true);
                    if !stream {
                        paths.push(path.to_path_buf());
                    } else if result.is_ok() {
                        result = writer.path(path, end);
                    }
                }
                notes_fs::Event::Seen(_) => counts.entry(false),
                notes_fs::Event::Warning(warning) if show => writer.warnings.push(warning),
                notes_fs::Event::Warning(warning) => warn(&warning),
                _ => {}
            }
            if ticking && counts.flush_due() && result.is_ok() {
                result = writer.flush();
            }
        });
        drop(stop);
        walked
    });
    bar.finish_and_clear();
    // The bar is gone: what is left (held warnings too) needs no suspending.
    writer.bar = None;
    if result.is_err() {
        // Stdout failed (a closed pipe): only the warnings are left to write.
        writer.pending.clear();
    }
    let flushed = writer.flush();
    walked?;
    result?;
    flushed?;
    if args.sort {
        paths.sort_unstable();
    }
    if out.json {
        let paths: Vec<_> = paths.iter().map(|p| JsonPath(p)).collect();
        return out.json(&paths);
    }
    if let Some(file) = &args.output {
        let mut bytes = Vec::new();
        for path in &paths {
            write_path(&mut bytes, path, end)?;
        }
        crate::files::write_bytes(file, args.force, &bytes)?;
    } else {
        for path in &paths {
            writer.path(path, end)?;
        }
    }
    writer.flush()?;
    Ok(())
}

/// `notes rename [ROOT] [--apply]` and `notes rename --undo JOURNAL`.
pub(crate) fn rename(args: &RenameArgs, out: &mut Out) -> anyhow::Result<()> {
    if let Some(undo) = &args.undo {
        if args.apply {
            anyhow::bail!("--undo and --apply cannot be used together");
        }
        let (journal, latest) = match (undo, &args.journal) {
            (Some(path), _) if !path.is_dir() => (path.clone(), false),
            (Some(tree), None) => (latest_journal(tree, out)?, true),
            (None, Some(path)) => (path.clone(), false),
            (None, None) => (latest_journal(&args.root, out)?, true),
            (Some(_), Some(_)) => {
                anyhow::bail!("give the journal once: --undo JOURNAL or --journal JOURNAL")
            }
        };
        let journal = &journal;
        let undone = notes_fs::undo(journal)?;
        if let Some(line) = undone.torn_line {
            warn(&format_args!(
                "line {line} of {} was cut short (a full disk or a kill while it was written); its rename never happened",
                notes_fs::Escaped(journal)
            ));
        }
        writeln!(
            out,
            "restored {} name(s), {} unchanged (already restored, or never renamed)",
            undone.restored, undone.unchanged
        )?;
        if latest {
            // Undone: the next --undo goes one journal further back.
            let mut done = journal.clone().into_os_string();
            done.push(".undone");
            std::fs::rename(journal, &done).with_context(|| {
                format!("cannot rename {} to mark it undone", journal.display())
            })?;
        }
        return Ok(());
    }
    let mut rule = notes_fs::RenameRule {
        lowercase: !args.keep_case,
        all: args.all,
        ..Default::default()
    };
    if !args.replace.is_empty() {
        rule.replace = args
            .replace
            .chunks(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect();
    }
    let options = notes_fs::RenameOptions {
        rule,
        dirs: args.dirs,
    };
    let plan = notes_fs::RenamePlan::new(&args.root, &options)?;
    for warning in plan.warnings() {
        warn(warning);
    }
    let mut planned = 0;
    for r in plan.renames().iter().filter(|r| !r.conflicted) {
        planned += 1;
        // Escaped: a control character or a byte that is not UTF-8 must show, not vanish.
        writeln!(
            out,
            "{} -> {}",
            notes_fs::Escaped(shown(&args.root, &r.from)),
            notes_fs::Escaped(shown(&args.root, &r.to))
        )?;
    }
    let conflicts = plan.conflicts();
    if !conflicts.is_empty() {
        out.flush()?;
        let what = if args.skip_conflicts {
            "skipped"
        } else {
            "conflict"
        };
        for conflict in conflicts {
            warn(&format_args!("{what}: {}", describe(&args.root, conflict)));
        }
        if !args.skip_conflicts {
            anyhow::bail!(
                "{} conflict(s) in the plan: nothing {} renamed (rename those entries first, or pass --skip-conflicts)",
                conflicts.len(),
                if args.apply { "was" } else { "would be" }
            );
        }
    }
    if !args.apply {
        writeln!(
            out,
            "dry run: {planned} rename(s) planned; pass --apply to rename"
        )?;
        return Ok(());
    }
    let journal = match &args.journal {
        Some(path) => path.clone(),
        None => {
            let dir = notes_fs::journal_dir().context(
                "no home directory to keep the journal in (HOME is unset): pass --journal FILE",
            )?;
            notes_fs::new_journal_path(&dir)?
        }
    };
    let applied = plan.apply(&journal, args.skip_conflicts).map_err(|err| {
        let created = !matches!(err, notes_fs::Error::Io { action: "create journal", .. });
        if created && journal.exists() {
            // Stopped half-way (a full disk, a target that appeared): say how to go back.
            anyhow::Error::new(err).context(format!(
                "renaming stopped; every rename done is in the journal: undo with: notes rename --undo {}",
                notes_fs::Escaped(&journal)
            ))
        } else {
            err.into()
        }
    })?;
    for warning in &applied.warnings {
        warn(warning);
    }
    if applied.renamed == 0 {
        writeln!(out, "nothing to rename")?;
    } else {
        writeln!(
            out,
            "renamed {}; undo with: notes rename --undo {}",
            applied.renamed,
            notes_fs::Escaped(&journal)
        )?;
    }
    Ok(())
}

/// Lists the recent journals of the default directory and picks the latest one for `tree`
/// (a journal whose renamed tree is `tree` or inside it).
fn latest_journal(tree: &Path, out: &mut Out) -> anyhow::Result<PathBuf> {
    let dir = notes_fs::journal_dir().context(
        "no home directory to look for journals in (HOME is unset): pass --undo JOURNAL",
    )?;
    let journals = notes_fs::journals(&dir)?;
    let tree_abs =
        std::path::absolute(tree).with_context(|| format!("cannot find {}", tree.display()))?;
    let tree_real = std::fs::canonicalize(tree).ok();
    let is_for_tree = |root: &Path| {
        root.starts_with(&tree_abs)
            || tree_real
                .as_ref()
                .is_some_and(|real| std::fs::canonicalize(root).is_ok_and(|r| r.starts_with(real)))
    };
    if journals.is_empty() {
        anyhow::bail!("no rename journal in {} to undo", notes_fs::Escaped(&dir));
    }
    writeln!(
        out,
        "recent journals in {} (newest first):",
        notes_fs::Escaped(&dir)
    )?;
    for info in journals.iter().take(5) {
        let root = info.root.as_deref().unwrap_or(Path::new("?"));
        writeln!(
            out,
            "  {}: {} rename(s) in {}",
            notes_fs::Escaped(info.path.file_name().map_or(info.path.as_path(), Path::new)),
            info.entries,
            notes_fs::Escaped(root)
        )?;
    }
    let latest = journals
        .iter()
        .find(|info| info.root.as_deref().is_some_and(is_for_tree))
        .with_context(|| {
            format!(
                "none of the journals in {} renamed {}: pass --undo JOURNAL",
                notes_fs::Escaped(&dir),
                notes_fs::Escaped(&tree_abs)
            )
        })?;
    writeln!(out, "undoing {}", notes_fs::Escaped(&latest.path))?;
    Ok(latest.path.clone())
}

/// `notes delete [ROOT] --keep-ext EXT... [--apply] [--trash]`.
pub(crate) fn delete(args: &DeleteArgs, out: &mut Out) -> anyhow::Result<()> {
    let rule = notes_fs::DeleteRule {
        keep_ext: args.keep_ext.clone(),
        patterns: args.glob.clone(),
    };
    let plan = notes_fs::DeletePlan::new(&args.root, &rule)?;
    for warning in plan.warnings() {
        warn(warning);
    }
    // Escaped, as in `rename`: a name with a newline must not read as two files.
    for doomed in plan.files() {
        writeln!(
            out,
            "{}",
            notes_fs::Escaped(shown(&args.root, &doomed.path))
        )?;
    }
    let count = plan.files().len();
    let size = HumanBytes(plan.total_size());
    if !args.apply {
        let (would, pass) = if args.trash {
            ("be moved to the trash", "move them")
        } else {
            ("be deleted", "delete")
        };
        writeln!(
            out,
            "dry run: {count} file(s), {size}, would {would}; pass --apply to {pass}"
        )?;
        return Ok(());
    }
    let removal = if args.trash {
        notes_fs::Removal::Trash
    } else {
        notes_fs::Removal::Delete
    };
    let done = plan.apply(removal)?;
    for warning in &done.warnings {
        warn(warning);
    }
    let verb = if args.trash {
        "moved to the trash"
    } else {
        "deleted"
    };
    writeln!(
        out,
        "{verb}: {} file(s), {}",
        done.deleted,
        HumanBytes(done.bytes)
    )?;
    Ok(())
}
