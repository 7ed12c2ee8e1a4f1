//! The walkers of every platform: walkdir (serial, everything) and the `ignore` crate
//! (ignore files, serial or parallel). On Linux they run only where the getdents walkers do
//! not (links followed); elsewhere always. See [`strategy`](super::strategy).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{Event, ExtensionSet, FindOptions, Problem, Reporter, Warning};

/// Everything under `base`, like `os.walk` (links followed if asked), with walkdir.
pub(super) fn walkdir(
    base: &Path,
    options: &FindOptions,
    report: &Reporter<'_>,
    visit: &mut dyn FnMut(Event<'_>),
) {
    let mut walk = walkdir::WalkDir::new(base)
        .min_depth(1)
        .follow_links(options.follow_links);
    if let Some(depth) = options.max_depth {
        walk = walk.max_depth(depth);
    }
    for entry in walk {
        match entry {
            Ok(entry) => report.entry(visit, entry.path(), entry.file_type().is_dir()),
            Err(err) => match dangling_link(Warning::from_walkdir(err, base), false) {
                Ok(Some(link)) => report.entry(visit, &link, false),
                Ok(None) => {}
                Err(warning) => visit(Event::Warning(warning)),
            },
        }
    }
}

/// The `ignore` crate's walk of `base` with `options`' filters, on `threads` threads.
pub(super) fn ignore(
    base: &Path,
    options: &FindOptions,
    threads: usize,
    report: &Reporter<'_>,
    visit: &mut dyn FnMut(Event<'_>),
) {
    let mut walk = ignore::WalkBuilder::new(base);
    if options.unrestricted {
        // No hidden filter, no ignore file of any kind read.
        walk.standard_filters(false);
    } else {
        walk.hidden(!options.hidden)
            .ignore(!options.no_ignore)
            .git_ignore(!options.no_ignore)
            .git_exclude(!options.no_ignore)
            .git_global(!options.no_ignore)
            .parents(!options.no_ignore);
    }
    walk.follow_links(options.follow_links)
        .max_depth(options.max_depth);
    // `ignore` reports a dangling link before its hidden filter looks at the name.
    let skip_hidden = !options.unrestricted && !options.hidden;
    if threads > 1 {
        walk.threads(threads);
        let context = Parallel {
            root: base,
            set: report.set,
            strip_dot: report.strip_dot,
            skip_hidden,
        };
        walk_parallel(walk.build_parallel(), &context, visit);
        return;
    }
    let mut warnings = Vec::new();
    for entry in walk.build() {
        match entry {
            Ok(entry) if entry.depth() == 0 => {}
            Ok(entry) => {
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                report.entry(visit, entry.path(), is_dir);
                if let Some(err) = entry.error() {
                    // A broken ignore file: the entry is walked, the problem is reported.
                    Warning::from_ignore(err.clone(), entry.path(), &mut warnings);
                }
            }
            Err(err) => Warning::from_ignore(err, base, &mut warnings),
        }
        for warning in warnings.drain(..) {
            match dangling_link(warning, skip_hidden) {
                Ok(Some(link)) => report.entry(visit, &link, false),
                Ok(None) => {}
                Err(warning) => visit(Event::Warning(warning)),
            }
        }
    }
}

/// With links followed, the walkers `stat` each link, and a link whose target does not exist
/// fails that `stat` as if it had vanished (or, for a target below a file, was unreadable).
/// The link is there, and fd and `find -L` list it as a file (it is not a directory):
/// `Ok(Some(link))` is such a link, to report as an entry, and `Ok(None)` one that
/// `skip_hidden` drops by its name. A real vanish or any other problem stays a warning (`Err`).
fn dangling_link(
    warning: Warning,
    skip_hidden: bool,
) -> std::result::Result<Option<PathBuf>, Warning> {
    let target_missing = match &warning.problem {
        Problem::Vanished => true,
        Problem::Unreadable(err) => err.kind() == io::ErrorKind::NotADirectory,
        Problem::Loop { .. } | Problem::Changed => false,
    };
    let is_link =
        || fs::symlink_metadata(&warning.path).is_ok_and(|meta| meta.file_type().is_symlink());
    if !target_missing || !is_link() {
        return Err(warning);
    }
    let hidden = warning
        .path
        .file_name()
        .is_some_and(|name| name.as_encoded_bytes().starts_with(b"."));
    Ok((!(skip_hidden && hidden)).then_some(warning.path))
}

/// What [`walk_parallel`] needs besides the walker: the root (for warnings without a path),
/// the extensions, whether to strip a `./` root, and whether hidden dangling links are dropped.
struct Parallel<'a> {
    root: &'a Path,
    set: &'a ExtensionSet,
    strip_dot: bool,
    skip_hidden: bool,
}

impl Parallel<'_> {
    /// The item of an entry at `path`: a match or only seen.
    fn item(&self, path: PathBuf, is_dir: bool) -> Item {
        if !is_dir && self.set.matches(&path) {
            let path = match path.strip_prefix(".") {
                Ok(rel) if self.strip_dot => rel.to_path_buf(),
                _ => path,
            };
            Item::Match(path)
        } else {
            Item::Seen(path)
        }
    }

    /// The items of a list of warnings: dangling links are entries (see [`dangling_link`]).
    fn warnings(&self, warnings: Vec<Warning>, items: &mut Vec<Item>) {
        for warning in warnings {
            match dangling_link(warning, self.skip_hidden) {
                Ok(Some(link)) => items.push(self.item(link, false)),
                Ok(None) => {}
                Err(warning) => items.push(Item::Warning(warning)),
            }
        }
    }
}

/// What a parallel walker thread hands to the caller's thread.
enum Item {
    Match(PathBuf),
    Seen(PathBuf),
    Warning(Warning),
}

/// Runs `ignore`'s parallel walker on other threads and hands its events to `visit` on this
/// one, so `visit` needs no `Send`. Matching happens on the walker threads.
fn walk_parallel(
    walker: ignore::WalkParallel,
    context: &Parallel<'_>,
    visit: &mut dyn FnMut(Event<'_>),
) {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(64);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            walker.run(|| {
                // Items go in batches: one channel send per entry costs more than the walk.
                let mut batch = Batch {
                    items: Vec::with_capacity(BATCH),
                    tx: tx.clone(),
                };
                Box::new(move |entry| {
                    match entry {
                        Ok(entry) if entry.depth() == 0 => {}
                        Ok(entry) => {
                            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                            let mut warnings = Vec::new();
                            if let Some(err) = entry.error() {
                                Warning::from_ignore(err.clone(), entry.path(), &mut warnings);
                            }
                            batch.items.push(context.item(entry.into_path(), is_dir));
                            batch.items.extend(warnings.into_iter().map(Item::Warning));
                        }
                        Err(err) => {
                            let mut warnings = Vec::new();
                            Warning::from_ignore(err, context.root, &mut warnings);
                            context.warnings(warnings, &mut batch.items);
                        }
                    }
                    if batch.items.len() >= BATCH && !batch.send() {
                        return ignore::WalkState::Quit;
                    }
                    ignore::WalkState::Continue
                })
            });
        });
        for item in rx.into_iter().flatten() {
            match item {
                Item::Match(path) => visit(Event::Match(&path)),
                Item::Seen(path) => visit(Event::Seen(&path)),
                Item::Warning(warning) => visit(Event::Warning(warning)),
            }
        }
    });
}

const BATCH: usize = 256;

/// One walker thread's pending items; whatever is left is sent when the thread is done.
struct Batch {
    items: Vec<Item>,
    tx: std::sync::mpsc::SyncSender<Vec<Item>>,
}

impl Batch {
    /// Sends the pending items; false if the receiver is gone.
    fn send(&mut self) -> bool {
        let items = std::mem::replace(&mut self.items, Vec::with_capacity(BATCH));
        self.tx.send(items).is_ok()
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        if !self.items.is_empty() {
            self.send();
        }
    }
}
