//! Walking a tree: `find` by extension (fd-like or os.walk-like), and the shared walk used by
//! the rename and delete plans (everything, `.git` skipped by path component, links not followed).
//!
//! - [`strategy`]: which walker runs, chosen in one place, with the measurements behind it;
//! - `getdents/`: the Linux walkers that read directories with `getdents64` relative to their
//!   parents' handles (`serial`, and `parallel` with ignore files);
//! - [`portable`]: walkdir and the `ignore` crate, for links followed and other systems;
//! - [`all`]: the plans' walk; [`extension`]: matching extensions; [`warning`]: what every
//!   walker reports when it skips an entry (a leaf: it depends on none of them).

mod all;
mod extension;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod getdents;
mod portable;
mod strategy;
mod warning;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

pub(crate) use all::walk_all;
pub(crate) use extension::ExtensionSet;
pub use warning::{Problem, Warning};

use crate::{Error, Result};
use strategy::Strategy;

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
    let report = Reporter {
        set: &set,
        strip_dot: !options.absolute && base == Path::new("."),
    };
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let visit: &mut dyn FnMut(Event<'_>) = &mut visit;
    match Strategy::choose(options, threads) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Strategy::Getdents => {
            let filter = getdents::parallel::Filter {
                hidden: !options.unrestricted && !options.hidden,
                ignore_files: !options.unrestricted && !options.no_ignore,
            };
            getdents::parallel::walk(&base, options.max_depth, filter, threads, &mut |step| {
                match step {
                    Ok((path, is_dir)) => report.entry(visit, path, is_dir),
                    Err(warning) => visit(Event::Warning(warning)),
                }
            });
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Strategy::GetdentsSerial => {
            getdents::serial::walk(&base, options.max_depth, &mut |step| match step {
                Ok((path, is_dir)) => report.entry(visit, path, is_dir),
                Err(warning) => visit(Event::Warning(warning)),
            });
        }
        Strategy::Walkdir => portable::walkdir(&base, options, &report, visit),
        Strategy::Ignore => portable::ignore(&base, options, threads, &report, visit),
    }
    Ok(())
}

/// Turns a walker's entries into [`Event`]s: a match (its `./` stripped when the root is
/// `.`) or only seen.
pub(crate) struct Reporter<'a> {
    set: &'a ExtensionSet,
    strip_dot: bool,
}

impl Reporter<'_> {
    fn entry(&self, visit: &mut dyn FnMut(Event<'_>), path: &Path, is_dir: bool) {
        if !is_dir && self.set.matches(path) {
            let shown = if self.strip_dot {
                path.strip_prefix(".").unwrap_or(path)
            } else {
                path
            };
            visit(Event::Match(shown));
        } else {
            visit(Event::Seen(path));
        }
    }
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
