//! The one error type of `notes-proc`, and the parse of signal names into it.

use std::io;
use std::str::FromStr;

use crate::{Signal, Status};

/// What can go wrong in `notes-proc`. Every variant that concerns a command names its command
/// line, as the notes' `RuntimeError("Error running command ...")` does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The program to run does not exist (or is not on `PATH`). The operating system's error
    /// is always "No such file or directory", so it is not kept: the message says it.
    #[error("cannot run {command:?}: program {program:?} not found")]
    NotFound {
        /// The whole command line, for the message.
        command: String,
        /// The program that was looked up.
        program: String,
    },
    /// The program exists but could not be started (not executable, too many processes, ...).
    #[error("cannot run {command:?}")]
    Spawn {
        /// The whole command line.
        command: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Waiting for, signalling or reading from a running command failed.
    #[error("lost track of {command:?} while {action}")]
    Io {
        /// The whole command line.
        command: String,
        /// What was being done: "waiting for it", "killing its process group", ...
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The command ran and failed: a non-zero exit status or a signal.
    #[error(
        "command {command:?} failed: {status}{}{}",
        tail_suffix(stderr_tail),
        omitted_suffix(*stderr_omitted)
    )]
    Failed {
        /// The whole command line.
        command: String,
        /// How it ended.
        status: Status,
        /// The last lines of what it wrote to standard error (may be empty): at most three
        /// non-empty lines, joined with "; ", and at most 400 bytes.
        stderr_tail: String,
        /// How many bytes of standard error came before `stderr_tail` and are not in it (the
        /// message says so when there are any).
        stderr_omitted: u64,
    },
    /// The command's standard output is not UTF-8 text, so it cannot be split into lines.
    #[error(
        "command {command:?} printed bytes that are not UTF-8 (first bad byte at offset {offset})"
    )]
    NotUtf8 {
        /// The whole command line.
        command: String,
        /// Byte offset of the first invalid byte in its standard output.
        offset: usize,
    },
    /// A signal name given to [`Signal`](crate::Signal)'s `FromStr` is not one it knows.
    #[error(
        "unknown signal {text:?}: expected a signal's name (HUP, INT, QUIT, KILL, USR1, USR2, ALRM, TERM, STOP, CONT, ...; with or without SIG) or, on Unix, its number"
    )]
    UnknownSignal {
        /// The text that was parsed.
        text: String,
    },
    /// The command line has no program: an empty argument list.
    #[error("empty command: no program to run")]
    EmptyCommand,
    /// [`call_with_timeout`](crate::call_with_timeout) was used before [`init`](crate::init).
    #[error("notes_proc::init() must run at the start of main() before call_with_timeout")]
    NotInitialized,
    /// The function run by [`call_with_timeout`](crate::call_with_timeout) panicked in its
    /// child process.
    #[error("the function panicked in its child process: {message}{}", location.as_deref().map(|l| format!(" (at {l})")).unwrap_or_default())]
    Panicked {
        /// The panic message.
        message: String,
        /// `file:line:column` of the panic, when known.
        location: Option<String>,
    },
    /// The child process of [`call_with_timeout`](crate::call_with_timeout) could not be
    /// started, died without returning (killed, aborted, exited), or its result could not be
    /// passed back.
    #[error("the function's child process failed")]
    Call {
        /// What procspawn reported.
        #[source]
        source: procspawn::SpawnError,
    },
}

fn tail_suffix(tail: &str) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!(": {tail}")
    }
}

fn omitted_suffix(omitted: u64) -> String {
    match omitted {
        0 => String::new(),
        1 => " (1 earlier byte of stderr not shown)".to_owned(),
        n => format!(" ({n} earlier bytes of stderr not shown)"),
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl FromStr for Signal {
    type Err = Error;

    /// Parses `TERM`, `SIGTERM`, `term` or (on Unix) `15`.
    ///
    /// # Errors
    /// [`Error::UnknownSignal`] for any other text.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Signal::from_name(text).ok_or_else(|| Error::UnknownSignal {
            text: text.to_owned(),
        })
    }
}
