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
    config.zero_copy = !args.no_splice;
    config.idle_timeout = Duration::from_secs(args.idle_timeout.max(1));
    config.limits = Limits::default().with_max_len(args.max_frame);
    if args.framed {
        config.mode = echo::Mode::Framed;
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
            let value = load(args)?;
            if out.json {
                return out.json(&pickle::Json(&value));
            }
            writeln!(out, "{}", pickle::repr(&value))?;
        }
        PickleCommand::ToJson(args) => {
            let value = load(&args.input)?;
            match &args.output {
                None => out.json(&pickle::Json(&value))?,
                Some(path) => {
                    let mut text = serde_json::to_string_pretty(&pickle::Json(&value))?;
                    text.push('\n');
                    crate::files::write_bytes(path, args.force, text.as_bytes())?;
                }
            }
        }
        PickleCommand::FromJson(args) => {
            let text = notes_fs::read_text(&args.file)?;
            let json: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("cannot parse {} as JSON", args.file.display()))?;
            let value = pickle::from_json(&json)
                .with_context(|| format!("cannot convert {}", args.file.display()))?;
            let bytes = pickle::value_to_vec(&value)?;
            crate::files::write_bytes(&args.output, args.force, &bytes)?;
        }
    }
    Ok(())
}

fn load(args: &FileArgs) -> anyhow::Result<pickle::Value> {
    let limits = Limits::default().with_max_len(args.max_len);
    Ok(pickle::load(Path::new(&args.file), &limits)?)
}
