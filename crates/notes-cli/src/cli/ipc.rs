//! The arguments of `notes echo` and `notes pickle` (notes-ipc), as clap derive types: parsing
//! only, the handlers in `cmd::ipc` consume them.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use notes_ipc::Limits;

/// The notes' default address (`echo-server.py`'s HOST and PORT).
pub(crate) const DEFAULT_ADDR: &str = "127.0.0.1:65432";

/// Arguments of `notes echo`.
#[derive(Debug, Args)]
pub(crate) struct EchoArgs {
    #[command(subcommand)]
    pub(crate) command: EchoCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum EchoCommand {
    /// Run the echo server until Ctrl-C (or until one client is done, with --once).
    Serve(ServeArgs),
    /// Send MESSAGE to an echo server and print what comes back, like echo-client.py.
    Send(SendArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on; port 0 picks a free port.
    #[arg(long, default_value = DEFAULT_ADDR)]
    pub(crate) addr: String,

    /// Connections served at once; further clients wait.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_conn: u32,

    /// Serve one connection, then exit (like echo-server.py).
    #[arg(long)]
    pub(crate) once: bool,

    /// Echo whole length-prefixed frames (the multiprocessing.connection framing) instead of bytes.
    #[arg(long)]
    pub(crate) framed: bool,

    /// The largest frame accepted with --framed, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = notes_ipc::DEFAULT_MAX_LEN)]
    pub(crate) max_frame: usize,

    /// Close a connection idle for this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub(crate) idle_timeout: u64,

    /// Move bytes with splice(2) instead of copying them through a buffer (raw mode, Linux;
    /// off by default: the copy measured as fast or faster).
    #[arg(long, conflicts_with = "no_splice")]
    pub(crate) splice: bool,

    /// Copy bytes through a buffer (the default; kept for scripts that ask for it).
    #[arg(long, hide = true)]
    pub(crate) no_splice: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// The message to send.
    pub(crate) message: String,

    /// The server's address.
    #[arg(long, default_value = DEFAULT_ADDR)]
    pub(crate) addr: String,

    /// Give up after this many seconds without progress.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub(crate) timeout: u64,
}

/// Arguments of `notes pickle`.
#[derive(Debug, Args)]
pub(crate) struct PickleArgs {
    #[command(subcommand)]
    pub(crate) command: PickleCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PickleCommand {
    /// Print a pickle file as Python would (with --json, as JSON), without running code.
    Show(FileArgs),
    /// Convert a pickle file to JSON (bytes as {"$bytes": HEX}).
    ToJson(ToJsonArgs),
    /// Convert a JSON file to a pickle file (protocol 3) that Python's pickle.load reads.
    FromJson(FromJsonArgs),
}

#[derive(Debug, Args)]
pub(crate) struct FileArgs {
    /// The pickle file (at most 16 MiB; see --max-len), or `-` for standard input.
    pub(crate) file: PathBuf,

    /// The largest file accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = notes_ipc::DEFAULT_MAX_LEN)]
    pub(crate) max_len: usize,

    /// The most memory decoding and printing may take, in bytes [default: 16 x --max-len].
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_memory: Option<usize>,
}

impl FileArgs {
    pub(crate) fn limits(&self) -> Limits {
        let limits = Limits::default().with_max_len(self.max_len);
        match self.max_memory {
            Some(max) => limits.with_max_memory(max),
            None => limits,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ToJsonArgs {
    #[command(flatten)]
    pub(crate) input: FileArgs,

    /// Write the JSON here (atomically) instead of standard output (`-`).
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,

    /// Replace the output file if it exists.
    #[arg(long, requires = "output")]
    pub(crate) force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct FromJsonArgs {
    /// The JSON file to read, or `-` for standard input.
    pub(crate) file: PathBuf,

    /// The pickle file to write (atomically), or `-` for standard output.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: PathBuf,

    /// The largest JSON input accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub(crate) max_len: u64,

    /// Replace the output file if it exists.
    #[arg(long)]
    pub(crate) force: bool,
}
