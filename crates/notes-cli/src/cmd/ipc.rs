//! Subcommands backed by `notes-ipc`: `notes echo` and `notes pickle`.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use notes_ipc::{Limits, echo, pickle};

use crate::cli::ipc::{
    EchoArgs, EchoCommand, FileArgs, PickleArgs, PickleCommand, SendArgs, ServeArgs,
};
use crate::output::Out;

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
                    crate::files::write_bytes(path, args.force, text.as_bytes())?;
                }
            }
        }
        PickleCommand::FromJson(args) => {
            let text = notes_fs::read_text(&args.file)?;
            let value = pickle::from_json(&text, &Limits::default())
                .with_context(|| format!("cannot convert {}", args.file.display()))?;
            let bytes = pickle::value_to_vec(&value)?;
            crate::files::write_bytes(&args.output, args.force, &bytes)?;
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

/// A numpy array from a pickle, as numpy's `repr(a)` prints it (notes-tensor's repr, through
/// the array's `.npy` form, which notes-tensor reads with its byte order); dtypes notes-tensor
/// has no type for (float16, complex) get notes-ipc's summary.
fn array_repr(array: &pickle::Array) -> String {
    match notes_tensor::AnyArray::from_npy_bytes_with_order(
        array.npy_bytes(),
        Path::new("<pickle>"),
    ) {
        Ok((any, order)) => any.repr_in(order, &notes_tensor::PrintOptions::default()),
        Err(_) => pickle::array_summary(array),
    }
}

fn load(args: &FileArgs) -> anyhow::Result<(pickle::Value, Limits)> {
    let limits = args.limits();
    Ok((pickle::load(Path::new(&args.file), &limits)?, limits))
}
