//! Where there is no subreaper helper (every system but Linux): commands run without it.

use std::io;
use std::process::{Child, Command};

/// The length of one report message (unused here).
#[cfg(unix)]
pub(crate) const MESSAGE: usize = 5;
/// The stand-in for `SIGKILL` (unused here: no helper to send it to).
#[cfg(unix)]
pub(crate) const KILL_TREE: nix::sys::signal::Signal = nix::sys::signal::Signal::SIGKILL;
/// Never sent (no helper here).
#[cfg(unix)]
pub(crate) const STOP_TREE: nix::sys::signal::Signal = nix::sys::signal::Signal::SIGSTOP;

/// Never: there is no helper here.
pub(crate) fn available() -> bool {
    false
}

/// Never called, as [`available`] is false.
pub(crate) fn spawn(
    _cmd: &Command,
    _kill_leftovers: bool,
    _piped: bool,
    _inherit_stdin: bool,
) -> io::Result<(Child, io::PipeReader, i32)> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// No message is ever read here.
#[cfg(unix)]
pub(crate) fn ended(_message: &[u8; MESSAGE]) -> Option<i32> {
    None
}

/// Nothing to serve.
pub(crate) fn serve_if_asked() {}
