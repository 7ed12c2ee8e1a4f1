//! Walking a tree: `find` by extension (fd-like or os.walk-like), and the shared walk used by
//! the rename and delete plans (everything, `.git` skipped by path component, links not followed).
//!
//! - [`strategy`]: which walker runs, chosen in one place, with the measurements behind it;
//! - `getdents/`: the Linux walkers that read directories with `getdents64` relative to their
//!   parents' handles (`serial`, and `parallel` with ignore files);
//! - [`portable`]: walkdir and the `ignore` crate, for links followed and other systems;
//! - [`options`]: what every walker shares (options, events, the reporter, the root check);
//! - [`all`]: the plans' walk; [`extension`]: matching extensions; [`warning`]: what every
//!   walker reports when it skips an entry (a leaf: it depends on none of them).

mod all;
mod extension;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod getdents;
mod options;
mod portable;
mod strategy;
mod warning;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

pub(crate) use all::walk_all;
pub(crate) use extension::ExtensionSet;
pub use options::{Event, FindOptions};
pub(crate) use options::{Reporter, check_root};
pub use warning::{Problem, Warning};

use crate::{Error, Result};
use strategy::Strategy;

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
