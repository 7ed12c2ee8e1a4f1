//! Walking a tree: `find` by extension (fd-like or os.walk-like), and the shared walk used by
//! the rename and delete plans (everything, `.git` skipped by path component, links not followed).

use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Options of [`find`]. The default is fd's: ignore files respected, hidden entries skipped,
/// symbolic links not followed, extensions compared ASCII case-insensitively, walk order.
#[derive(Debug, Clone, Default)]
pub struct FindOptions {
    /// Walk everything, like `os.walk` or `find`: hidden entries included, ignore files not
    /// read. Overrides [`hidden`](Self::hidden) and [`no_ignore`](Self::no_ignore).
    pub unrestricted: bool,
    /// Include hidden entries (names starting with `.`).
    pub hidden: bool,
    /// Do not read `.gitignore`, `.ignore` and git's exclude files.
    pub no_ignore: bool,
    /// Follow symbolic links. A link back to an ancestor is reported as a
    /// [`Problem::Loop`] warning and not entered again; a link whose target does not exist
    /// (dangling) is reported as a file, as fd and `find -L` do.
    pub follow_links: bool,
    /// Descend at most this many levels below the root (1: the root's own entries only).
    pub max_depth: Option<usize>,
    /// Report absolute paths (the root made absolute lexically, links not resolved).
    pub absolute: bool,
    /// Sort the paths (by components, byte order) instead of reporting them in walk order.
    pub sort: bool,
    /// Compare extensions exactly instead of ASCII case-insensitively.
    pub case_sensitive: bool,
    /// Walker threads: 0 is one per core (parallel was measured faster in both modes,
    /// docs/benchmarks.md). 1 is serial, in the same order from run to run (a directory, then
    /// its contents); with more, the order varies.
    pub threads: usize,
}

/// What was wrong with one entry of a walk that went on without it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Problem {
    /// The entry could not be read (a directory without permission, for instance).
    Unreadable(io::Error),
    /// The entry disappeared between being listed and being looked at.
    Vanished,
    /// A followed symbolic link leads back to `ancestor`; it was not entered.
    Loop {
        /// The directory the link points back to.
        ancestor: PathBuf,
    },
    /// Since the plan was made, the entry (or a directory above it) was replaced: by a link,
    /// by another file or directory, or it was moved away. Nothing at or below it was
    /// touched.
    Changed,
}

/// A problem that did not stop a walk: the entry was skipped, and the caller is told.
#[derive(Debug)]
pub struct Warning {
    /// The entry concerned (the root when the walker could not tell).
    pub path: PathBuf,
    /// What was wrong with it.
    pub problem: Problem,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = crate::Escaped(&self.path);
        match &self.problem {
            Problem::Unreadable(err) => write!(f, "cannot read {path}: {err}"),
            Problem::Vanished => write!(f, "{path} vanished after being listed"),
            Problem::Changed => write!(
                f,
                "{path} changed since the plan was made (replaced, moved or now a link); skipped, with everything below it"
            ),
            Problem::Loop { ancestor } => write!(
                f,
                "{path} is a link back to {}; not followed again",
                crate::Escaped(ancestor)
            ),
        }
    }
}

impl Warning {
    pub(crate) fn from_io(path: PathBuf, err: io::Error) -> Self {
        let problem = if err.kind() == io::ErrorKind::NotFound {
            Problem::Vanished
        } else {
            Problem::Unreadable(err)
        };
        Self { path, problem }
    }

    fn from_walkdir(err: walkdir::Error, root: &Path) -> Self {
        let path = err.path().unwrap_or(root).to_path_buf();
        if let Some(ancestor) = err.loop_ancestor() {
            return Self {
                path,
                problem: Problem::Loop {
                    ancestor: ancestor.to_path_buf(),
                },
            };
        }
        let io = err
            .into_io_error()
            .unwrap_or_else(|| io::Error::other("walk error"));
        Self::from_io(path, io)
    }

    /// Flattens `ignore`'s nested error into warnings (it wraps paths, depths and lists).
    fn from_ignore(err: ignore::Error, path: &Path, out: &mut Vec<Warning>) {
        match err {
            ignore::Error::WithPath { path, err } => Self::from_ignore(*err, &path, out),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                Self::from_ignore(*err, path, out);
            }
            ignore::Error::Partial(errs) => {
                for err in errs {
                    Self::from_ignore(err, path, out);
                }
            }
            ignore::Error::Loop { ancestor, child } => out.push(Self {
                path: child,
                problem: Problem::Loop { ancestor },
            }),
            ignore::Error::Io(err) => out.push(Self::from_io(path.to_path_buf(), err)),
            other => out.push(Self {
                path: path.to_path_buf(),
                problem: Problem::Unreadable(io::Error::other(other.to_string())),
            }),
        }
    }
}

/// What [`find_each`] reports, one event at a time.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A file whose extension is in the set.
    Match(&'a Path),
    /// An entry that was looked at and does not match (for progress counters).
    Seen(&'a Path),
    /// An entry that was skipped; see [`Warning`].
    Warning(Warning),
}

/// The result of [`find`]: the matching paths and the warnings of the walk.
#[derive(Debug, Default)]
pub struct Found {
    /// Matching files, in walk order or sorted (see [`FindOptions::sort`]).
    pub paths: Vec<PathBuf>,
    /// Entries that could not be read, vanished, or were link loops.
    pub warnings: Vec<Warning>,
}

/// Files under `root` whose extension is in `extensions` (given with or without the dot; an
/// empty set matches every file), as [`Found`].
///
/// The extension is [`Path::extension`], so `report.pdf.bak` has `bak` and `.bashrc` has none.
/// Anything that is not a directory counts as a file (links too, unless followed; a dangling
/// link even when followed).
/// Unreadable directories, vanished entries and link loops are warnings, not errors;
/// the error is for a root that cannot be walked at all.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// std::fs::create_dir_all(dir.path().join("a/.hidden"))?;
/// for f in ["a/x.wav", "a/y.WAV", "a/z.wav.txt", "a/.hidden/h.wav"] {
///     std::fs::write(dir.path().join(f), "")?;
/// }
/// let options = notes_fs::FindOptions { sort: true, ..Default::default() };
/// let found = notes_fs::find(dir.path(), &["wav"], &options)?;
/// let names: Vec<_> = found.paths.iter().map(|p| p.file_name().unwrap()).collect();
/// assert_eq!(names, ["x.wav", "y.WAV"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[tracing::instrument(level = "debug", skip_all)]
pub fn find<S: AsRef<OsStr>>(
    root: &Path,
    extensions: &[S],
    options: &FindOptions,
) -> Result<Found> {
    let mut found = Found::default();
    find_each(root, extensions, options, |event| match event {
        Event::Match(path) => found.paths.push(path.to_path_buf()),
        Event::Seen(_) => {}
        Event::Warning(warning) => found.warnings.push(warning),
    })?;
    if options.sort {
        found.paths.sort_unstable();
    }
    Ok(found)
}

/// Like [`find`], but hands each event to `visit` as it happens (for streaming output and
/// progress). [`FindOptions::sort`] is ignored: events come in walk order.
#[tracing::instrument(level = "debug", skip_all)]
pub fn find_each<S: AsRef<OsStr>>(
    root: &Path,
    extensions: &[S],
    options: &FindOptions,
    mut visit: impl FnMut(Event<'_>),
) -> Result<()> {
    check_root(root)?;
    let set = ExtensionSet::new(extensions, options.case_sensitive);
    let base = if options.absolute {
        std::path::absolute(root).map_err(Error::io("make absolute", root))?
    } else {
        root.to_path_buf()
    };
    // `notes find` in the current directory prints `a/b.wav`, not `./a/b.wav`, as fd does.
    let strip_dot = !options.absolute && base == Path::new(".");
    let report = |visit: &mut dyn FnMut(Event<'_>), path: &Path, is_dir: bool| {
        if !is_dir && set.matches(path) {
            let shown = if strip_dot {
                path.strip_prefix(".").unwrap_or(path)
            } else {
                path
            };
            visit(Event::Match(shown));
        } else {
            visit(Event::Seen(path));
        }
    };
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if !options.follow_links && (threads > 1 || !options.unrestricted) {
        // Both modes with the fewest system calls (docs/benchmarks.md), serial -u excepted
        // (the walk below keeps walkdir's order); following links keeps the loop-checked
        // walks below.
        let filter = crate::parwalk::Filter {
            hidden: !options.unrestricted && !options.hidden,
            ignore_files: !options.unrestricted && !options.no_ignore,
        };
        crate::parwalk::walk(
            &base,
            options.max_depth,
            filter,
            threads,
            &mut |step| match step {
                Ok((path, is_dir)) => report(&mut visit, path, is_dir),
                Err(warning) => visit(Event::Warning(warning)),
            },
        );
        return Ok(());
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if options.unrestricted && threads == 1 && !options.follow_links {
        // The fewest system calls (docs/benchmarks.md); walkdir below follows links.
        crate::fastwalk::walk(&base, options.max_depth, &mut |step| match step {
            Ok((path, is_dir)) => report(&mut visit, path, is_dir),
            Err(warning) => visit(Event::Warning(warning)),
        });
        return Ok(());
    }
    if options.unrestricted && threads == 1 {
        // Everything, like os.walk: plain walkdir is the fastest serial walker measured here
        // (docs/benchmarks.md), and there is no ignore file to read.
        let mut walk = walkdir::WalkDir::new(&base)
            .min_depth(1)
            .follow_links(options.follow_links);
        if let Some(depth) = options.max_depth {
            walk = walk.max_depth(depth);
        }
        for entry in walk {
            match entry {
                Ok(entry) => report(&mut visit, entry.path(), entry.file_type().is_dir()),
                Err(err) => match dangling_link(Warning::from_walkdir(err, &base), false) {
                    Ok(Some(link)) => report(&mut visit, &link, false),
                    Ok(None) => {}
                    Err(warning) => visit(Event::Warning(warning)),
                },
            }
        }
    } else {
        let mut walk = ignore::WalkBuilder::new(&base);
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
                root: &base,
                set: &set,
                strip_dot,
                skip_hidden,
            };
            walk_parallel(walk.build_parallel(), &context, &mut visit);
            return Ok(());
        }
        let mut warnings = Vec::new();
        for entry in walk.build() {
            match entry {
                Ok(entry) if entry.depth() == 0 => {}
                Ok(entry) => {
                    let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                    report(&mut visit, entry.path(), is_dir);
                    if let Some(err) = entry.error() {
                        // A broken ignore file: the entry is walked, the problem is reported.
                        Warning::from_ignore(clone_ignore_error(err), entry.path(), &mut warnings);
                    }
                }
                Err(err) => Warning::from_ignore(err, &base, &mut warnings),
            }
            for warning in warnings.drain(..) {
                match dangling_link(warning, skip_hidden) {
                    Ok(Some(link)) => report(&mut visit, &link, false),
                    Ok(None) => {}
                    Err(warning) => visit(Event::Warning(warning)),
                }
            }
        }
    }
    Ok(())
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
                                Warning::from_ignore(
                                    clone_ignore_error(err),
                                    entry.path(),
                                    &mut warnings,
                                );
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

/// `ignore::Error` is not `Clone`; an entry's attached error is only borrowed, so keep its text.
fn clone_ignore_error(err: &ignore::Error) -> ignore::Error {
    ignore::Error::Io(io::Error::other(err.to_string()))
}

/// The root must be a readable directory: anything else is an error, not a warning.
pub(crate) fn check_root(root: &Path) -> Result<()> {
    let meta = fs::metadata(root).map_err(Error::io("walk", root))?;
    if !meta.is_dir() {
        return Err(Error::NotADirectory {
            path: root.to_path_buf(),
        });
    }
    fs::read_dir(root).map_err(Error::io("read directory", root))?;
    Ok(())
}

/// A set of extensions, without their dots, compared exactly or ASCII case-insensitively.
#[derive(Debug)]
pub(crate) struct ExtensionSet {
    extensions: Vec<Vec<u8>>,
    case_sensitive: bool,
}

impl ExtensionSet {
    pub(crate) fn new<S: AsRef<OsStr>>(extensions: &[S], case_sensitive: bool) -> Self {
        let extensions = extensions
            .iter()
            .map(|e| {
                let bytes = e.as_ref().as_encoded_bytes();
                bytes.strip_prefix(b".").unwrap_or(bytes).to_vec()
            })
            .collect();
        Self {
            extensions,
            case_sensitive,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.extensions.is_empty()
    }

    /// True if `path` has an extension in the set; an empty set matches everything.
    pub(crate) fn matches(&self, path: &Path) -> bool {
        if self.extensions.is_empty() {
            return true;
        }
        self.contains(extension(path))
    }

    /// True if `extension` (as from [`Path::extension`]) is in the set.
    pub(crate) fn contains(&self, extension: Option<&OsStr>) -> bool {
        let Some(ext) = extension.map(OsStr::as_encoded_bytes) else {
            return false;
        };
        self.extensions.iter().any(|e| {
            if self.case_sensitive {
                e == ext
            } else {
                e.eq_ignore_ascii_case(ext)
            }
        })
    }
}

/// [`Path::extension`] of a path from a walk on Unix, without parsing its components: the
/// bytes after the last `.` of the last name, unless that `.` starts the name (a name is never
/// `.` or `..` in a walk, and never ends with `/`). Profiles showed the component parsing.
#[cfg(unix)]
fn extension(path: &Path) -> Option<&OsStr> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    let name = bytes.rsplit(|&b| b == b'/').next().unwrap_or(bytes);
    if name.is_empty() || name == b"." || name == b".." {
        // Not a walk's entry: ask the standard library.
        return path.extension();
    }
    match name.iter().rposition(|&b| b == b'.') {
        None | Some(0) => None,
        Some(dot) => Some(OsStr::from_bytes(&name[dot + 1..])),
    }
}

#[cfg(not(unix))]
fn extension(path: &Path) -> Option<&OsStr> {
    path.extension()
}

/// One entry of a [`walk_all`]: its path, whether it is a directory, and its depth (root = 0).
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) path: PathBuf,
    pub(crate) is_dir: bool,
    pub(crate) depth: usize,
}

/// Everything under `root` as the notes walk it (hidden entries included, ignore files not
/// read) except `.git` by path component, links never followed, the root itself excluded;
/// with the identity of every directory walked (the root included), which applying a plan
/// checks before it acts in that directory (see `at.rs`).
pub(crate) fn walk_all(
    root: &Path,
    warnings: &mut Vec<Warning>,
) -> Result<(Vec<Entry>, crate::at::Dirs)> {
    check_root(root)?;
    let mut dirs = crate::at::Dirs::new();
    let meta = fs::metadata(root).map_err(Error::io("walk", root))?;
    dirs.insert(root.to_path_buf(), crate::at::Id::of(&meta));
    let mut entries = Vec::new();
    let walk = walkdir::WalkDir::new(root)
        .min_depth(1)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| e.file_name() != ".git");
    for entry in walk {
        match entry {
            Ok(entry) => {
                let is_dir = entry.file_type().is_dir();
                if is_dir {
                    match entry.metadata() {
                        Ok(meta) if meta.is_dir() => {
                            dirs.insert(entry.path().to_path_buf(), crate::at::Id::of(&meta));
                        }
                        // Replaced since it was listed: its contents are not planned.
                        Ok(_) => continue,
                        Err(err) => {
                            warnings.push(Warning::from_walkdir(err, root));
                            continue;
                        }
                    }
                }
                entries.push(Entry {
                    is_dir,
                    depth: entry.depth(),
                    path: entry.into_path(),
                });
            }
            Err(err) => warnings.push(Warning::from_walkdir(err, root)),
        }
    }
    Ok((entries, dirs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_compared_as_extensions() {
        let set = ExtensionSet::new(&["pdf", ".wav"], false);
        for (path, want) in [
            ("A File.PDF", true),
            ("report.pdf.bak", false),
            ("x.wav", true),
            (".pdf", false),
            ("pdf", false),
            ("a.pdf", true),
        ] {
            assert_eq!(set.matches(Path::new(path)), want, "{path}");
        }
        let exact = ExtensionSet::new(&["pdf"], true);
        assert!(!exact.matches(Path::new("A.PDF")));
        assert!(ExtensionSet::new::<&str>(&[], false).matches(Path::new("any")));
    }

    #[test]
    fn extensions_are_the_standard_librarys() {
        for path in [
            "a.wav",
            "dir/a.wav",
            "dir.d/a",
            "dir/.a",
            "dir/.a.b",
            "a.",
            "dir/a..b",
            ".",
            "..",
            "a/.",
            "a/..",
            "a/b/",
            "a.b/",
            "/",
            "",
            "a",
            "x/y.tar.gz",
            "./.wav",
            "dir//f.x",
        ] {
            let path = Path::new(path);
            assert_eq!(extension(path), path.extension(), "{path:?}");
        }
    }
}
