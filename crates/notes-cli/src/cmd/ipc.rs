//! Subcommands backed by `notes-ipc`: `notes echo` and `notes pickle`.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use notes_ipc::{Limits, echo, pickle};

use crate::cli::ipc::{
    EchoArgs, EchoCommand, FileArgs, PickleArgs, PickleCommand, SendArgs, ServeArgs,
};
use crate::input;
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
                .with_context(|| format!("cannot print {}", input::name(&args.file)))?;
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
            let text = input::read_text(&args.file, args.max_len, "--max-len BYTES")?;
            let value = pickle::from_json(&text, &Limits::default())
                .with_context(|| format!("cannot convert {}", input::name(&args.file)))?;
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
    pickle::Json::new(value, limits)
        .with_context(|| format!("cannot convert {}", input::name(file)))
}

/// A numpy array from a pickle, as numpy's `repr(a)` prints it (notes-tensor's repr). The
/// items are viewed in place when they are aligned and in this machine's byte order (so a
/// large array is not copied: `load` aligns the largest one), converted with one copy
/// otherwise; dtypes notes-tensor has no type for (float16, complex) get notes-ipc's summary.
fn array_repr(array: &pickle::Array) -> String {
    use pickle::Kind;
    let print = notes_tensor::PrintOptions::default();
    let dtype = array.dtype();
    // numpy names a non-native byte order in the repr (`dtype='>i4'`).
    let order = if dtype.big_endian {
        notes_tensor::ByteOrder::Big
    } else {
        notes_tensor::ByteOrder::Little
    };
    let options = (order, &print);
    let repr = match (dtype.kind, dtype.size) {
        // numpy reads any non-zero byte as True.
        (Kind::Bool, _) => owned_repr(
            array,
            array.data().iter().map(|&b| b != 0).collect(),
            options,
        ),
        (Kind::Int, 1) => native_repr::<i8>(array, options),
        (Kind::Int, 2) => native_repr::<i16>(array, options),
        (Kind::Int, 4) => native_repr::<i32>(array, options),
        (Kind::Int, 8) => native_repr::<i64>(array, options),
        (Kind::UInt, 1) => native_repr::<u8>(array, options),
        (Kind::UInt, 2) => native_repr::<u16>(array, options),
        (Kind::UInt, 4) => native_repr::<u32>(array, options),
        (Kind::UInt, 8) => native_repr::<u64>(array, options),
        (Kind::Float, 4) => native_repr::<f32>(array, options),
        (Kind::Float, 8) => native_repr::<f64>(array, options),
        _ => None,
    };
    repr.unwrap_or_else(|| pickle::array_summary(array))
}

/// numpy's repr of an array of `T`, viewed in place or else copied once.
fn native_repr<T: pickle::Native + notes_tensor::NumpyElement>(
    array: &pickle::Array,
    options: Options<'_>,
) -> Option<String> {
    match array.as_slice::<T>() {
        Some(items) => ndarray::ArrayView::from_shape(array_shape(array), items)
            .ok()
            .map(|view| notes_tensor::format_repr_in(&view, options.0, options.1)),
        None => owned_repr(array, array.to_vec::<T>()?, options),
    }
}

fn owned_repr<T: notes_tensor::NumpyElement>(
    array: &pickle::Array,
    items: Vec<T>,
    options: Options<'_>,
) -> Option<String> {
    ndarray::Array::from_shape_vec(array_shape(array), items)
        .ok()
        .map(|owned| notes_tensor::format_repr_in(&owned, options.0, options.1))
}

/// The byte order the repr names and the print options.
type Options<'a> = (notes_tensor::ByteOrder, &'a notes_tensor::PrintOptions);

/// The array's shape and memory order, for ndarray.
fn array_shape(array: &pickle::Array) -> ndarray::Shape<ndarray::IxDyn> {
    use ndarray::ShapeBuilder;
    ndarray::IxDyn(array.shape()).set_f(array.is_fortran())
}

/// Reads the pickle `args.file` names (`-`: standard input) within its limits.
fn load(args: &FileArgs) -> anyhow::Result<(pickle::Value, Limits)> {
    let limits = args.limits();
    if input::is_stdin(&args.file) {
        let bytes = input::read_bytes(&args.file, limits.max_len as u64, "--max-len BYTES")?;
        let value = pickle::from_slice(&bytes, &limits).context("cannot read stdin")?;
        return Ok((value, limits));
    }
    Ok((pickle::load(Path::new(&args.file), &limits)?, limits))
}
