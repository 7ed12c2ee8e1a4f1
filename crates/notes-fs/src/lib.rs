#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// The walkers, and the plans built on them, are the `walk` feature (on by default); without
// it the crate is the careful writer and the text helpers, with few dependencies, for the
// workspace's other crates (docs/architecture.md).
#[cfg(feature = "walk")]
mod at;
mod atomic;
#[cfg(feature = "walk")]
mod delete;
mod display;
mod error;
#[cfg(feature = "walk")]
mod journal;
#[cfg(feature = "walk")]
mod rename;
mod text;
#[cfg(feature = "walk")]
mod walk;

pub use atomic::{AtomicFile, Replace, is_stream, write_file};
#[cfg(feature = "walk")]
pub use delete::{DeletePlan, DeleteRule, Deleted, Doomed, Removal, unmatchable_extension};
pub use display::Escaped;
pub use error::{Error, Result};
#[cfg(feature = "walk")]
pub use journal::{JournalInfo, journal_dir, journals, new_journal_path};
#[cfg(feature = "walk")]
pub use rename::{Applied, Conflict, Rename, RenameOptions, RenamePlan, RenameRule, Undone, undo};
pub use text::{
    DEFAULT_ALLOWED, DEFAULT_MAX_TEXT, between, clean_filename, ensure_dir, extract_between,
    extract_between_text, extract_between_with_limit, read_ints, read_text, read_text_with_limit,
    write_bytes, write_ints, write_text,
};
#[cfg(feature = "walk")]
pub use walk::{Event, FindOptions, Found, Problem, Warning, find, find_each};

/// The directory of the source file that invokes it, as a `PathBuf`: the Rust counterpart of
/// Python's `os.path.dirname(os.path.abspath(__file__))`.
///
/// The path is the one the file had when it was compiled (from `file!()` and the crate's
/// `CARGO_MANIFEST_DIR`); a binary moved to another machine still reports it.
///
/// ```
/// let dir = notes_fs::source_dir!();
/// assert!(dir.is_absolute());
/// ```
#[macro_export]
macro_rules! source_dir {
    () => {
        $crate::__source_dir(env!("CARGO_MANIFEST_DIR"), file!())
    };
}

/// Implementation of [`source_dir!`]; not part of the stable API.
#[doc(hidden)]
pub fn __source_dir(manifest_dir: &str, file: &str) -> std::path::PathBuf {
    text::source_dir(
        std::path::Path::new(manifest_dir),
        std::path::Path::new(file),
    )
}
