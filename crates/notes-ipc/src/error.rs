//! The one error type of `notes-ipc`: every variant names the input it concerns and what is wrong.

use std::io;
use std::path::PathBuf;

/// What can go wrong in `notes-ipc`. Every variant says which input it concerns and what is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system call on `path` failed; `action` says which ("read", "write", ...).
    #[error("cannot {action} {}", path.display())]
    File {
        /// What was being done, as a verb: "read", "write", "rename", ...
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Reading from or writing to a stream (a socket, usually) failed; `action` says what was done.
    #[error("cannot {action}")]
    Io {
        /// What was being done: "read a frame header", "connect to 127.0.0.1:65432", ...
        action: String,
        /// The underlying error (a timeout is `WouldBlock` or `TimedOut`, except where
        /// [`Error::TimedOut`] is returned instead).
        #[source]
        source: io::Error,
    },
    /// A stream's timeout passed with nothing read or written, such as an echo server that
    /// never replies ([`echo::send`](crate::echo::send)).
    ///
    /// There is no source: the operating system's error (`EAGAIN`, "Resource temporarily
    /// unavailable") is only how a socket timeout shows, and says less than this one.
    #[error("cannot {action}: {what} within {timeout:?}")]
    TimedOut {
        /// What was being done: "read the reply", "send the message".
        action: String,
        /// What did not happen: "no reply", "3 of 12 bytes came back, then nothing".
        what: String,
        /// The timeout that passed (printed as `2s`, `200ms`).
        timeout: std::time::Duration,
    },
    /// A frame header announced more bytes than the configured maximum; nothing was allocated.
    #[error("frame of {len} bytes exceeds the maximum of {max} bytes")]
    FrameTooLarge {
        /// The announced length.
        len: u64,
        /// The maximum in force ([`Limits::max_len`](crate::Limits::max_len)).
        max: usize,
    },
    /// An input of unknown length (a pipe or a device such as `/dev/zero`) held more than the
    /// maximum; reading stopped one byte past it.
    #[error("it holds more than the maximum of {max} bytes (--max-len raises it)")]
    InputTooLarge {
        /// The maximum in force ([`Limits::max_len`](crate::Limits::max_len)).
        max: usize,
    },
    /// The stream ended inside a frame: after `got` of `expected` bytes.
    #[error("the stream ended inside a frame after {got} of {expected} bytes")]
    Truncated {
        /// Bytes announced (header plus body).
        expected: u64,
        /// Bytes actually received.
        got: u64,
    },
    /// A message body is not valid for the native (bincode) codec or the requested type.
    #[error("cannot decode the message: {0}")]
    Decode(String),
    /// A value cannot be encoded (for example a map with non-string keys where they are required).
    #[error("cannot encode the value: {0}")]
    Encode(String),
    /// Decoding stopped because the data nests deeper than the configured maximum.
    #[error("the data nests deeper than the maximum of {max} levels")]
    TooDeep {
        /// The maximum in force ([`Limits::max_depth`](crate::Limits::max_depth)).
        max: usize,
    },
    /// A pickle is malformed, uses an unsupported opcode, or is too large once expanded.
    #[error("not a valid pickle: {0}")]
    Pickle(String),
    /// Decoding or converting untrusted data would take more memory than allowed.
    #[error(
        "{what} would take more than {max} bytes of memory{}; raise the limit (--max-memory) if the data is trusted",
        offset.map(|at| format!(" (at byte {at})")).unwrap_or_default()
    )]
    TooLarge {
        /// What was being made: "the decoded pickle", ...
        what: &'static str,
        /// The budget in force ([`Limits::max_memory`](crate::Limits::max_memory)).
        max: usize,
        /// Byte offset of the input where the budget ran out (`None` when converting a value).
        offset: Option<usize>,
    },
    /// A pickle refers to a Python global (a class or function); loading it in Python would run code.
    #[error(
        "the pickle refers to the Python global `{name}` (at byte {offset}); refusing to load code or class instances"
    )]
    PickleGlobal {
        /// The dotted name, such as `os.system`, or the opcode that needs one.
        name: String,
        /// Byte offset of the opcode.
        offset: usize,
    },
    /// A file does not start with the `notes-ipc` header.
    #[error("{} is not a notes-ipc data file ({what})", path.display())]
    NotADataFile {
        /// The file.
        path: PathBuf,
        /// What it looks like instead ("a Python pickle", "empty", "unknown magic bytes").
        what: &'static str,
    },
    /// A data file has a format or version this crate does not read.
    #[error("{} has format {format} version {version}; this build reads format 1 (bincode) version 1", path.display())]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// The format byte.
        format: u8,
        /// The version byte.
        version: u8,
    },
    /// A data file is shorter than its header says.
    #[error("{} is truncated: the header announces {expected} bytes of data, {got} are present", path.display())]
    TruncatedFile {
        /// The file.
        path: PathBuf,
        /// Body length from the header.
        expected: u64,
        /// Body bytes present.
        got: u64,
    },
    /// The data in a file could not be decoded.
    #[error("{}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with its content.
        #[source]
        source: Box<Error>,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn file(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::File {
            action,
            path,
            source,
        }
    }

    pub(crate) fn io(action: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let action = action.into();
        move |source| Self::Io { action, source }
    }

    pub(crate) fn in_file(self, path: &std::path::Path) -> Self {
        match self {
            err @ (Self::File { .. }
            | Self::NotADataFile { .. }
            | Self::UnsupportedFormat { .. }
            | Self::TruncatedFile { .. }
            | Self::InFile { .. }) => err,
            err => Self::InFile {
                path: path.to_path_buf(),
                source: Box::new(err),
            },
        }
    }
}
