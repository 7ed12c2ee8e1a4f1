//! How `notes` ends when a command does not succeed: usage errors (exit 2) and explicit exit
//! statuses (`notes timeout`'s), shared by the handlers and `main` (a leaf: it imports nothing
//! of the crate's own, as fd's `exit_codes.rs`).

use std::fmt;

/// A mistake in how `notes` was called that clap cannot see; reported like clap's (exit 2).
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Ends `notes` with exit status `code`, after printing `cause` (if any) as an error: how
/// `notes timeout` passes on its command's status.
#[derive(Debug)]
pub(crate) struct Exit {
    pub(crate) code: u8,
    pub(crate) cause: Option<anyhow::Error>,
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Some(cause) => write!(f, "{cause:#}"),
            None => write!(f, "exit status {}", self.code),
        }
    }
}

impl std::error::Error for Exit {}

/// `notes timeout`'s exit statuses, as GNU timeout's: the deadline passed; `notes` itself
/// failed (its usage errors included, so they are not taken for the command's status); the
/// program could not be run; the program does not exist.
pub(crate) const TIMED_OUT: u8 = 124;
pub(crate) const FAILED: u8 = 125;
pub(crate) const CANNOT_RUN: u8 = 126;
pub(crate) const NOT_FOUND: u8 = 127;
