//! Subcommands backed by `notes-ipc`: `notes echo` and `notes pickle`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use notes_ipc::{Limits, echo, pickle};

use crate::output::Out;

/// The notes' default address (`echo-server.py`'s HOST and PORT).
const DEFAULT_ADDR: &str = "127.0.0.1:65432";

/// Arguments of `notes echo`.
#[derive(Debug, Args)]
pub(crate) struct EchoArgs {
    #[command(subcommand)]
    command: EchoCommand,
}

#[derive(Debug, Subcommand)]
enum EchoCommand {
    /// Run the echo server until Ctrl-C (or until one client is done, with --once).
    Serve(ServeArgs),
    /// Send MESSAGE to an echo server and print what comes back, like echo-client.py.
    Send(SendArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The address to listen on; port 0 picks a free port.
    #[arg(long, default_value = DEFAULT_ADDR)]
    addr: String,

    /// Connections served at once; further clients wait.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    max_conn: u32,

    /// Serve one connection, then exit (like echo-server.py).
    #[arg(long)]
    once: bool,

    /// Echo whole length-prefixed frames (the multiprocessing.connection framing) instead of bytes.
    #[arg(long)]
    framed: bool,

    /// The largest frame accepted with --framed, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = notes_ipc::DEFAULT_MAX_LEN)]
    max_frame: usize,

    /// Close a connection idle for this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    idle_timeout: u64,

    /// Move bytes with splice(2) instead of copying them through a buffer (raw mode, Linux;
    /// off by default: the copy measured as fast or faster).
    #[arg(long, conflicts_with = "no_splice")]
    splice: bool,

    /// Copy bytes through a buffer (the default; kept for scripts that ask for it).
    #[arg(long, hide = true)]
    no_splice: bool,
}

#[derive(Debug, Args)]
struct SendArgs {
    /// The message to send.
    message: String,

    /// The server's address.
    #[arg(long, default_value = DEFAULT_ADDR)]
    addr: String,

    /// Give up after this many seconds without progress.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    timeout: u64,
}

/// `notes echo serve|send`.
pub(crate) fn echo(args: &EchoArgs, out: &mut Out) -> anyhow::Result<()> {
    match &args.command {
        EchoCommand::Serve(args) => serve(args, out),
        EchoCommand::Send(args) => send(args, out),
    }
}

fn serve(args: &ServeArgs, out: &mut Out) -> anyhow::Result<()> {
    let mut config = echo::ServerConfig::default();
    config.max_conn = args.max_conn as usize;
    config.once = args.once;
    config.zero_copy = args.splice && !args.no_splice;
    config.idle_timeout = Duration::from_secs(args.idle_timeout.max(1));
    config.limits = Limits::default().with_max_len(args.max_frame);
    if args.framed {
        config.mode = echo::Mode::Framed;
    }
    if !crate::output::is_quiet() {
        // What the notes' echo-server.py prints for each connection.
        config.on_connect = Some(echo::ConnectHook(std::sync::Arc::new(|peer| {
            let _ = writeln!(
                std::io::stderr(),
                "Connected by {}",
                echo::python_addr(peer)
            );
        })));
    }
    let server = echo::Server::bind(args.addr.as_str(), config)?;
    let handle = server.shutdown_handle();
    ctrlc::set_handler(move || handle.shutdown()).context("cannot install the Ctrl-C handler")?;
    writeln!(out, "Listening on {}", server.local_addr())?;
    out.flush()?;
    let report = server.serve()?;
    writeln!(
        out,
        "Served {} connection(s), {} bytes echoed, {} ended with an error",
        report.connections, report.bytes, report.failed
    )?;
    Ok(())
}

fn send(args: &SendArgs, out: &mut Out) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(args.timeout.max(1));
    let reply = echo::send(args.addr.as_str(), args.message.as_bytes(), timeout)?;
    writeln!(out, "Received {}", pickle::bytes_repr(&reply))?;
    Ok(())
}

/// Arguments of `notes pickle`.
#[derive(Debug, Args)]
pub(crate) struct PickleArgs {
    #[command(subcommand)]
    command: PickleCommand,
}

#[derive(Debug, Subcommand)]
enum PickleCommand {
    /// Print a pickle file as Python would (with --json, as JSON), without running code.
    Show(FileArgs),
    /// Convert a pickle file to JSON (bytes as {"$bytes": HEX}).
    ToJson(ToJsonArgs),
    /// Convert a JSON file to a pickle file (protocol 3) that Python's pickle.load reads.
    FromJson(FromJsonArgs),
}

#[derive(Debug, Args)]
struct FileArgs {
    /// The pickle file (at most 16 MiB; see --max-len).
    file: PathBuf,

    /// The largest file accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = notes_ipc::DEFAULT_MAX_LEN)]
    max_len: usize,

    /// The most memory decoding and printing may take, in bytes [default: 16 x --max-len].
    #[arg(long, value_name = "BYTES")]
    max_memory: Option<usize>,
}

impl FileArgs {
    fn limits(&self) -> Limits {
        let limits = Limits::default().with_max_len(self.max_len);
        match self.max_memory {
            Some(max) => limits.with_max_memory(max),
            None => limits,
        }
    }
}

#[derive(Debug, Args)]
struct ToJsonArgs {
    #[command(flatten)]
    input: FileArgs,

    /// Write the JSON here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct FromJsonArgs {
    /// The JSON file to read.
    file: PathBuf,

    /// The pickle file to write (atomically).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
}

/// `notes pickle show|to-json|from-json`.
pub(crate) fn pickle(args: &PickleArgs, out: &mut Out) -> anyhow::Result<()> {
    match &args.command {
        PickleCommand::Show(args) => {
            let (value, limits) = load(args)?;
            if out.json {
                return out.json(&json(&value, &limits, &args.file)?);
            }
            let text = pickle::repr_with(&value, &array_repr, &limits)
                .with_context(|| format!("cannot print {}", args.file.display()))?;
            writeln!(out, "{text}")?;
        }
        PickleCommand::ToJson(args) => {
            let (value, limits) = load(&args.input)?;
            let json = json(&value, &limits, &args.input.file)?;
            match &args.output {
                None => out.json(&json)?,
                Some(path) => {
                    let mut text = serde_json::to_string_pretty(&json)?;
                    text.push('\n');
                    notes_fs::write_text(path, &text)?;
                }
            }
        }
        PickleCommand::FromJson(args) => {
            let text = notes_fs::read_text(&args.file)?;
            let value = pickle::from_json(&text, &Limits::default())
                .with_context(|| format!("cannot convert {}", args.file.display()))?;
            pickle::save_value(&args.output, &value)?;
        }
    }
    Ok(())
}

fn json<'a>(
    value: &'a pickle::Value,
    limits: &Limits,
    file: &Path,
) -> anyhow::Result<pickle::Json<'a>> {
    pickle::Json::new(value, limits).with_context(|| format!("cannot convert {}", file.display()))
}

/// A numpy array from a pickle, printed by notes-tensor (through its `.npy` form, which
/// notes-tensor reads); dtypes notes-tensor has no type for (float16, complex) get
/// notes-ipc's summary.
fn array_repr(array: &pickle::Array) -> String {
    match notes_tensor::AnyArray::from_npy_bytes(array.npy_bytes(), Path::new("<pickle>")) {
        Ok(any) => any.format(&notes_tensor::PrintOptions::default()),
        Err(_) => pickle::array_summary(array),
    }
}

fn load(args: &FileArgs) -> anyhow::Result<(pickle::Value, Limits)> {
    let limits = args.limits();
    Ok((pickle::load(Path::new(&args.file), &limits)?, limits))
}
