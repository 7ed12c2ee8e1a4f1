use std::io;
use std::path::PathBuf;

/// What can go wrong in `notes-fs`. Every variant names the path it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system call on `path` failed; `action` says which ("read", "create", ...).
    #[error("cannot {action} {}", path.display())]
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
    #[error("{} exists and is not a directory", path.display())]
    NotADirectory {
        /// The offending path.
        path: PathBuf,
    },
    /// A text file was expected to hold UTF-8 text but does not.
    #[error("{} is not valid UTF-8 (first bad byte at offset {offset})", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// A marker searched for by [`extract_between`](crate::extract_between) is not in the file.
    #[error("{}: {which} {marker:?} not found{}", path.display(), if *which == "suffix" { " after the prefix" } else { "" })]
    MarkerNotFound {
        /// The file searched.
        path: PathBuf,
        /// `"prefix"` or `"suffix"`.
        which: &'static str,
        /// The marker text.
        marker: String,
    },
    /// A token in a list-of-integers file is not an integer.
    #[error("{}: item {index} ({token:?}) is not an integer", path.display())]
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
