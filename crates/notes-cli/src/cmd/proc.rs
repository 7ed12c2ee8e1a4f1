//! Subcommands backed by `notes-proc`: `notes run`, `notes timeout`, `notes spawn`.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::cli::Exit;
use crate::output::Out;

/// Arguments of `notes run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Print empty lines too (the notes keep only non-empty ones).
    #[arg(long)]
    keep_empty: bool,

    /// The command and its arguments (put `--` before them if they start with `-`).
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    command: Vec<OsString>,
}

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

/// Arguments of `notes timeout`.
#[derive(Debug, Args)]
pub(crate) struct TimeoutArgs {
    /// How long the command may run: 200ms, 4s, 1.5m, 1h 2m (a bare number is seconds);
    /// 0 means no time limit, as in GNU timeout.
    #[arg(value_parser = parse_duration)]
    duration: Duration,

    /// The signal sent to the command's process group at the deadline (TERM, KILL, INT, ...).
    #[arg(short, long, default_value = "TERM", value_name = "SIG")]
    signal: notes_proc::Signal,

    /// Send KILL this long after the signal to whatever of the group is still running
    /// (0: never).
    #[arg(short, long, value_parser = parse_duration, default_value = "1s", value_name = "DURATION")]
    kill_after: Duration,

    /// Let the command read the terminal and get its signals (Ctrl-C, Ctrl-Z), as GNU timeout
    /// --foreground does; at the deadline only the command is signalled, not its children.
    #[arg(long)]
    foreground: bool,

    /// The command and its arguments (put `--` before them if they start with `-`).
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    command: Vec<OsString>,
}

/// GNU timeout's exit statuses: the deadline passed; `notes` itself failed; the program
/// could not be run; the program does not exist.
const TIMED_OUT: u8 = 124;
pub(crate) const FAILED: u8 = 125;
const CANNOT_RUN: u8 = 126;
const NOT_FOUND: u8 = 127;

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

/// Arguments of `notes spawn`.
#[derive(Debug, Args)]
pub(crate) struct SpawnArgs {
    /// Append the command's standard output and error to FILE (default: this terminal's).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// The command and its arguments (put `--` before them if they start with `-`).
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    command: Vec<OsString>,
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

/// Parses a duration with notes-time's parser (`200ms`, `4s`, `1.5m`, `1h 2m`, `1h2m30s`); a bare
/// number is seconds, as in GNU timeout.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    if let Ok(seconds) = text.trim().parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).map_err(|_| {
            format!("{text:?} is not a duration: seconds must be finite and not negative")
        });
    }
    notes_time::parse_std_duration(text).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::parse_duration;

    fn check(text: &str, expected: Result<Duration, &str>) {
        match (parse_duration(text), expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{text}"),
            (Err(got), Err(want)) => assert!(got.contains(want), "{text}: {got}"),
            (got, want) => panic!("{text}: got {got:?}, expected {want:?}"),
        }
    }

    #[test]
    fn durations_parse_like_the_notes_write_them() {
        check("200ms", Ok(Duration::from_millis(200)));
        check("4s", Ok(Duration::from_secs(4)));
        check("1.5m", Ok(Duration::from_secs(90)));
        check("1h 2m", Ok(Duration::from_secs(3720)));
        check("1h2m30s", Ok(Duration::from_secs(3750)));
        check(" 2 ", Ok(Duration::from_secs(2)));
        check("0.25", Ok(Duration::from_millis(250)));
        check("10us", Ok(Duration::from_micros(10)));
        check("1d", Ok(Duration::from_secs(86400)));
    }

    #[test]
    fn bad_durations_say_what_is_wrong() {
        check("", Err("invalid duration"));
        check("abc", Err("invalid duration \"abc\""));
        check("5 parsecs", Err("unknown unit \"parsecs\""));
        check("1h 5", Err("invalid duration \"1h 5\""));
        check("-3s", Err("invalid duration \"-3s\""));
        check("-3", Err("not negative"));
        check("1e400", Err("must be finite"));
        check("1..2s", Err("invalid duration \"1..2s\""));
        check("99999999999999999999d", Err("invalid duration"));
    }
}
