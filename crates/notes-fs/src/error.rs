//! The one error type of `notes-fs`: every variant names the path it concerns.

use std::io;
use std::path::PathBuf;

/// What can go wrong in `notes-fs`. Every variant names the path it concerns (as [`Escaped`](crate::Escaped)
/// shows it, so no byte of a name is hidden).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system call on `path` failed; `action` says which ("read", "create", ...).
    #[error("cannot {action} {}", crate::Escaped(path))]
    Io {
        /// What was being done, as a verb: "read", "write", "create directory", ...
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// `path` exists but is not a directory, so it cannot be used as one.
    #[error("{} exists and is not a directory", crate::Escaped(path))]
    NotADirectory {
        /// The offending path.
        path: PathBuf,
    },
    /// A text file was expected to hold UTF-8 text but does not.
    #[error(
        "{} is not valid UTF-8 (first bad byte at offset {offset})",
        crate::Escaped(path)
    )]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// A file is longer than the limit its reader was given (an endless input stops there).
    #[error(
        "{} is longer than the limit of {limit} bytes; it was not read further",
        crate::Escaped(path)
    )]
    TooBig {
        /// The file.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// A marker searched for by [`extract_between`](crate::extract_between) is not in the file.
    #[error("{}: {which} {marker:?} not found{}", crate::Escaped(path), if *which == "suffix" { " after the prefix" } else { "" })]
    MarkerNotFound {
        /// The file searched.
        path: PathBuf,
        /// `"prefix"` or `"suffix"`.
        which: &'static str,
        /// The marker text.
        marker: String,
    },
    /// A token in a list-of-integers file is not an integer.
    #[error("{}: item {index} ({token:?}) is not an integer", crate::Escaped(path))]
    BadInteger {
        /// The file read.
        path: PathBuf,
        /// Zero-based position of the token in the list.
        index: usize,
        /// The token as written.
        token: String,
        /// Why it does not parse.
        #[source]
        source: std::num::ParseIntError,
    },
    /// A rename plan has conflicts and was applied without skipping them: nothing was renamed.
    #[error(
        "the rename plan has {count} conflict(s); nothing was renamed (resolve them, or skip the entries involved)"
    )]
    Conflicts {
        /// How many conflicts the plan has.
        count: usize,
    },
    /// A rename failed (or its target appeared after planning); applying stopped there.
    #[error(
        "cannot rename {} to {} (stopped after {done} rename(s), recorded in {})",
        crate::Escaped(from),
        crate::Escaped(to),
        crate::Escaped(journal)
    )]
    Rename {
        /// The path being renamed.
        from: PathBuf,
        /// Its new path.
        to: PathBuf,
        /// Renames done before this one.
        done: usize,
        /// The journal that records them.
        journal: PathBuf,
        /// The underlying error (`AlreadyExists` if the target appeared).
        #[source]
        source: io::Error,
    },
    /// Restoring a name from a journal failed; undoing stopped there.
    #[error(
        "cannot rename {} back to {} (stopped after restoring {restored} name(s) from {})",
        crate::Escaped(from),
        crate::Escaped(to),
        crate::Escaped(journal)
    )]
    Undo {
        /// The current (renamed) path.
        from: PathBuf,
        /// The original path.
        to: PathBuf,
        /// Names restored before this one.
        restored: usize,
        /// The journal being undone.
        journal: PathBuf,
        /// The underlying error (`AlreadyExists` if the original path is taken, `NotFound` if
        /// neither path exists).
        #[source]
        source: io::Error,
    },
    /// A file is not a rename journal, or is damaged.
    #[error(
        "{} is not a valid rename journal: line {line}: {why}",
        crate::Escaped(path)
    )]
    BadJournal {
        /// The journal file.
        path: PathBuf,
        /// One-based line number.
        line: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// A delete plan was asked for with neither extensions to keep nor patterns to delete.
    #[error("nothing selects the files to delete: give extensions to keep or patterns to delete")]
    NoDeleteRule,
    /// A bulk delete or rename was asked for at the root of the file system (`/`, or a link
    /// to it): refused, as `rm -r` refuses `/` (`--preserve-root`), since a typo or an empty
    /// variable in front of a slash must not reach every file of the machine.
    #[error(
        "{} is the root of the file system: refused (name a directory below it)",
        crate::Escaped(path)
    )]
    FileSystemRoot {
        /// The root as given.
        path: PathBuf,
    },
    /// A delete rule holds an extension to keep that no file can have (empty or dots only,
    /// as an unset shell variable gives, or with a `.` or `/` inside), or an empty pattern.
    /// Such a rule would keep nothing and so delete everything: it is refused, so a typo never
    /// deletes a whole tree.
    #[error("{what} {given:?} {why}: nothing was planned")]
    EmptyRule {
        /// `"extension to keep"` or `"pattern"`.
        what: &'static str,
        /// The value as given.
        given: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A delete pattern is not a valid glob.
    #[cfg(feature = "walk")]
    #[error("invalid pattern {pattern:?}")]
    BadPattern {
        /// The pattern as given.
        pattern: String,
        /// Why it does not parse.
        #[source]
        source: globset::Error,
    },
    /// Deleting a file failed; applying stopped there.
    #[error(
        "cannot delete {} (stopped after deleting {done} file(s))",
        crate::Escaped(path)
    )]
    Delete {
        /// The file.
        path: PathBuf,
        /// Files deleted before it.
        done: usize,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Moving a file to the trash failed; applying stopped there.
    #[error(
        "cannot move {} to the trash (stopped after trashing {done} file(s))",
        crate::Escaped(path)
    )]
    Trash {
        /// The file.
        path: PathBuf,
        /// Files trashed before it.
        done: usize,
        /// The trash implementation's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}
