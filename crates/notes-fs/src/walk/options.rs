//! What every walker shares (a leaf below `walk`'s facade): the options of [`find`], the
//! events it reports, the reporter that turns entries into events, and the root check.
//!
//! [`find`]: super::find

use std::fs;
use std::path::Path;

use super::extension::ExtensionSet;
use super::warning::Warning;
use crate::{Error, Result};

/// Options of [`find`](super::find). The default is fd's: ignore files respected, hidden entries skipped,
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
    /// [`Problem::Loop`](crate::Problem::Loop) warning and not entered again; a link whose target does not exist
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

/// What [`find_each`](super::find_each) reports, one event at a time.
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

/// Turns a walker's entries into [`Event`]s: a match (its `./` stripped when the root is
/// `.`) or only seen.
pub(crate) struct Reporter<'a> {
    pub(super) set: &'a ExtensionSet,
    pub(super) strip_dot: bool,
}

impl Reporter<'_> {
    pub(super) fn entry(&self, visit: &mut dyn FnMut(Event<'_>), path: &Path, is_dir: bool) {
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
