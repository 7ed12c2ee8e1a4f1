//! The one error type of `notes-prof`.

use std::path::PathBuf;

/// What can go wrong while profiling, loading, saving or reporting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A stats file could not be read or written.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The stats file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },

    /// The bytes are not a stats file (pstats/cProfile or notes-prof): wrong first bytes,
    /// unknown version, truncated or damaged data, inconsistent rows.
    #[error("{what} is not a valid stats file: {why}")]
    Format {
        /// The file (or `the input` for bytes in memory).
        what: String,
        /// What is wrong with it.
        why: String,
    },

    /// The input is larger than the size limit (it is not read past the limit).
    #[error("{what} is larger than the limit of {limit} bytes for a stats file")]
    TooLarge {
        /// The file (or `the input`).
        what: String,
        /// The limit, in bytes.
        limit: u64,
    },

    /// A flame graph could not be drawn or written.
    #[error("cannot draw the flame graph: {why}")]
    Flame {
        /// What went wrong.
        why: String,
    },

    /// A sort key that pstats does not know (or an ambiguous abbreviation).
    #[error("unknown sort key {key:?}: expected one of {expected}")]
    SortKey {
        /// The key as given.
        key: String,
        /// The keys pstats knows, comma-separated.
        expected: String,
    },

    /// A restriction that cannot be applied: a fraction outside `[0, 1)` or a bad regex.
    #[error("invalid restriction {given:?}: {why}")]
    Restriction {
        /// The restriction as given.
        given: String,
        /// What is wrong with it.
        why: String,
    },

    /// `profile_to` could not install its subscriber because the process already has one.
    #[error("cannot profile to {}: a global tracing subscriber is already installed", path.display())]
    SubscriberSet {
        /// The stats file that would have been written.
        path: PathBuf,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
