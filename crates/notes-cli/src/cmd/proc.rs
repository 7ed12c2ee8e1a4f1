//! Subcommands backed by `notes-proc`: `notes run`, `notes timeout`, `notes spawn`.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use crate::cli::proc::{RunArgs, SpawnArgs, TimeoutArgs};
use crate::exit::{CANNOT_RUN, Exit, FAILED, NOT_FOUND, TIMED_OUT};
use crate::output::Out;

/// `notes run [--keep-empty] -- CMD [ARGS...]`.
pub(crate) fn run(args: &RunArgs, out: &mut Out) -> anyhow::Result<()> {
    let mut cmd = command(&args.command);
    let lines: Vec<String> = if args.keep_empty {
        notes_proc::run_text(&mut cmd)?
            .lines()
            .map(str::to_owned)
            .collect()
    } else {
        notes_proc::run(&mut cmd)?
    };
    if out.json {
        return out.json(&lines);
    }
    for line in lines {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `notes timeout DURATION [--signal SIG] [--kill-after DURATION] -- CMD [ARGS...]`: exits
/// with the command's status, 124 when the deadline ended it.
pub(crate) fn timeout(args: &TimeoutArgs) -> anyhow::Result<()> {
    let forward = notes_proc::Forward::new();
    forward_signals(&forward)?;
    // As in GNU timeout, a duration of 0 disables its timeout.
    let never_if_zero = |d: Duration| if d.is_zero() { Duration::MAX } else { d };
    let limit = notes_proc::Limit::new(never_if_zero(args.duration))
        .signal(args.signal)
        .kill_after(never_if_zero(args.kill_after))
        .foreground(args.foreground)
        .forward(&forward)
        .capture(false);
    let outcome = match notes_proc::run_with_timeout(&mut command(&args.command), &limit) {
        Ok(outcome) => outcome,
        Err(err) => {
            let code = match err {
                notes_proc::Error::NotFound { .. } => NOT_FOUND,
                // A script whose `#!` interpreter is missing: 127 too, as in GNU timeout.
                notes_proc::Error::Spawn { ref source, .. }
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    NOT_FOUND
                }
                notes_proc::Error::Spawn { .. } => CANNOT_RUN,
                _ => FAILED,
            };
            return Err(Exit {
                code,
                cause: Some(err.into()),
            }
            .into());
        }
    };
    let code = if outcome.timed_out {
        TIMED_OUT
    } else {
        // Exit codes above 255 exist only on Windows; report them as a plain failure.
        u8::try_from(outcome.status.shell_code()).unwrap_or(1)
    };
    if code == 0 {
        Ok(())
    } else {
        Err(Exit { code, cause: None }.into())
    }
}

/// Passes the INT, QUIT, HUP and TERM this process gets on to the command, as GNU timeout
/// does: the command runs in a process group of its own, which neither Ctrl-C at the terminal
/// nor `kill` of this process reaches. The handler thread lives until `notes` exits.
#[cfg(unix)]
fn forward_signals(forward: &notes_proc::Forward) -> anyhow::Result<()> {
    use notes_proc::Signal;
    use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};

    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGQUIT, SIGHUP, SIGTERM])
        .context("cannot install the signal handlers")?;
    let forward = forward.clone();
    std::thread::Builder::new()
        .name("notes-signals".into())
        .spawn(move || {
            for raw in signals.forever() {
                let signal = match raw {
                    SIGINT => Signal::Int,
                    SIGQUIT => Signal::Quit,
                    SIGHUP => Signal::Hup,
                    _ => Signal::Term,
                };
                forward.signal(signal);
            }
        })
        .context("cannot start the signal handler thread")?;
    Ok(())
}

/// Windows has Ctrl-C only: pass it on.
#[cfg(not(unix))]
fn forward_signals(forward: &notes_proc::Forward) -> anyhow::Result<()> {
    let forward = forward.clone();
    ctrlc::set_handler(move || forward.signal(notes_proc::Signal::Int))
        .context("cannot install the Ctrl-C handler")
}

/// `notes spawn [--output FILE] -- CMD [ARGS...]`: starts it detached, prints its pid.
pub(crate) fn spawn(args: &SpawnArgs, out: &mut Out) -> anyhow::Result<()> {
    let mut cmd = command(&args.command);
    // A detached process has no terminal to read from.
    cmd.stdin(Stdio::null());
    if let Some(path) = &args.output {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {} for the output", path.display()))?;
        let copy = file
            .try_clone()
            .with_context(|| format!("cannot open {} for the output", path.display()))?;
        cmd.stdout(file).stderr(copy);
    }
    let child = notes_proc::spawn_detached(&mut cmd)?;
    if out.json {
        return out.json(&serde_json::json!({ "pid": child.pid() }));
    }
    writeln!(out, "{}", child.pid())?;
    Ok(())
}

fn command(argv: &[OsString]) -> Command {
    // clap guarantees at least one element (`required = true`).
    let (program, args) = argv.split_first().map_or_else(
        || (OsString::new(), &[][..]),
        |(program, args)| (program.clone(), args),
    );
    let mut cmd = Command::new(program);
    cmd.args(args);
    cmd
}
