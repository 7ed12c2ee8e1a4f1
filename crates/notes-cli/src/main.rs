//! `notes`: the Notes on Python, replayed as Rust tools.
//!
//! This binary is thin on purpose: it parses arguments (clap), calls the `notes-*` libraries
//! and prints. See the workspace README for the map from notes to crates and subcommands.

mod cli;
mod cmd;
mod exit;
mod files;
mod input;
mod logging;
mod output;
mod progress;
mod repr;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

fn main() -> ExitCode {
    // First, before anything else: `notes_proc::call_with_timeout` (the tour's
    // call-with-timeout section) starts this executable again, and in that child process
    // `init()` runs the function and exits. Code above this line would run in every child.
    notes_proc::init();
    // The command line is read once, here, and parsed once (clap); nothing else reads it.
    let args: Vec<OsString> = std::env::args_os().collect();
    let cli = match cli::parse(&args) {
        Ok(cli) => cli,
        Err(failure) => {
            // Help and version go to stdout with status 0, usage errors to stderr with status 2
            // (125 for `notes timeout`, as GNU timeout's own failures, so that they are not
            // taken for the command's status). A failed write here (closed pipe) changes
            // nothing about the status.
            let err = failure.error;
            let code = u8::try_from(err.exit_code()).unwrap_or(2);
            if let Err(write) = err.print() {
                // Help or version that cannot be written is a failure, as in GNU tools (a
                // closed pipe excepted); a usage error that cannot reach stderr has its status.
                if code == 0 && write.kind() != std::io::ErrorKind::BrokenPipe {
                    print_error(&anyhow::Error::from(output::stdout_error(write)));
                    return ExitCode::FAILURE;
                }
            }
            if code != 0 && failure.subcommand.as_deref() == Some("timeout") {
                return ExitCode::from(exit::FAILED);
            }
            return ExitCode::from(code);
        }
    };
    output::init_color(cli.global.color);
    output::set_quiet(cli.global.quiet);
    let profiler = logging::init(&cli.global);
    let profile_path = cli.global.profile.clone();
    let force_profile = cli.global.force_profile;
    // An existing profile is refused before the command runs, not after its work is done.
    if let Some(path) = &profile_path
        && let Err(err) = files::refuse_existing(path, force_profile)
    {
        return report(&err);
    }
    let result = cmd::run(cli);
    // Like `python -m cProfile -o FILE`, the profile is written even when the command failed.
    let saved = match (profiler, profile_path) {
        (Some(profiler), Some(path)) => {
            profiler.stop();
            let bytes = profiler.stats().to_bytes();
            files::write_bytes(&path, force_profile, &bytes)
                .context("cannot save the profile (--profile)")
        }
        _ => Ok(()),
    };
    match result.and(saved) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(&err),
    }
}

/// Prints `error: <what>: <why>` with the whole cause chain and picks the exit status.
fn report(err: &anyhow::Error) -> ExitCode {
    if output::is_broken_pipe(err) {
        // `notes ... | head` closed our stdout: the reader has what it wanted.
        return ExitCode::SUCCESS;
    }
    if let Some(exit) = err.downcast_ref::<exit::Exit>() {
        // `notes timeout` passes on its command's status; the command spoke for itself.
        if let Some(cause) = &exit.cause {
            print_error(cause);
        }
        return ExitCode::from(exit.code);
    }
    let usage = err.downcast_ref::<exit::UsageError>().is_some();
    print_error(err);
    if usage {
        let mut stderr = anstream::stderr().lock();
        let _ = writeln!(stderr, "\nFor more information, try '--help'.");
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}

/// Prints `error: <what>: <why>` (the whole chain) to stderr, `error:` in bold red on a terminal.
fn print_error(err: &anyhow::Error) {
    let mut stderr = anstream::stderr().lock();
    let style = anstyle::Style::new()
        .bold()
        .fg_color(Some(anstyle::AnsiColor::Red.into()));
    let _ = writeln!(stderr, "{style}error:{style:#} {err:#}");
}
