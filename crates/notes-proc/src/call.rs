//! `call_with_timeout`: run a Rust function in a child process and kill it at a deadline, as
//! the notes' `multiprocessing.Process` + `join(timeout)` + `terminate()` snippet does.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result, startup};

/// Prepares this program to serve [`call_with_timeout`]: call it first thing in `main`.
///
/// [`call_with_timeout`] starts this same executable again (procspawn re-executes it) and the
/// child process runs the function from inside `init()`, then exits; so code before the call
/// runs again in every child, and code after it runs only in the parent.
///
/// It also serves [`run_with_timeout`](crate::run_with_timeout) on Linux: with `init()` in
/// place before any other thread starts, a command run with a limit runs under a helper
/// process (this executable started again, which `init()` turns into the helper) that catches
/// every descendant. (With `#[tokio::main]` the runtime's threads start first: call `init()`
/// in a plain `main` that then builds the runtime.)
///
/// ```no_run
/// notes_proc::init(); // the first line of `main`
/// // ... the program ...
/// ```
pub fn init() {
    // Started again as the subreaper helper of `run_with_timeout`: serve, and exit there.
    crate::reaper::serve_if_asked();
    procspawn::ProcConfig::new()
        // In the function's child process, before it runs: die with the thread that started
        // it (blocked in `call_with_timeout` for the whole call), `kill -9` of this program
        // included, instead of running on unwatched.
        .config_callback(|| {
            #[cfg(target_os = "linux")]
            let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
        })
        .init();
    startup::mark_initialized();
}

/// Calls `f(args)` in a child process and returns `Ok(Some(result))`, or kills the child at
/// `timeout` and returns `Ok(None)`: the notes' `call_func_with_timeout(func, timeout, args)`
/// with `timeout_retval=None`.
///
/// `f` must be a plain function (not a closure that captures), and its argument and result
/// cross the process boundary with serde. The child is this executable started again, so
/// [`init`] must run at the start of `main`. Its standard streams are inherited: what `f`
/// prints shows up as it would in the parent. At the deadline the child gets `SIGKILL` and is
/// reaped (processes that `f` itself started are not tracked: run those with
/// [`run_with_timeout`](crate::run_with_timeout)). On Linux the child also dies (`SIGKILL`,
/// through `PR_SET_PDEATHSIG`) when the thread that called this function ends, this whole
/// program being killed included.
///
/// # Errors
/// [`Error::Panicked`] when `f` panics (with its message and location),
/// [`Error::NotInitialized`] without [`init`], and [`Error::Call`] when the child cannot be
/// started or dies without returning (killed, aborted, or its result cannot be serialized).
///
/// ```no_run
/// use std::time::Duration;
///
/// fn f(x: u64) -> u64 {
///     for i in 0..x {
///         println!("{i}");
///         std::thread::sleep(Duration::from_secs(1));
///     }
///     42
/// }
///
/// fn main() -> Result<(), notes_proc::Error> {
///     notes_proc::init();
///     let timeout = Duration::from_secs(4);
///     assert_eq!(notes_proc::call_with_timeout(f, 2, timeout)?, Some(42));
///     assert_eq!(notes_proc::call_with_timeout(f, 6, timeout)?, None);
///     Ok(())
/// }
/// ```
#[tracing::instrument(level = "debug", skip_all)]
pub fn call_with_timeout<A, R>(f: fn(A) -> R, args: A, timeout: Duration) -> Result<Option<R>>
where
    A: Serialize + DeserializeOwned,
    R: Serialize + DeserializeOwned,
{
    if !startup::initialized() {
        return Err(Error::NotInitialized);
    }
    let deadline = Instant::now().checked_add(timeout);
    let mut handle = procspawn::spawn(args, f);
    loop {
        // procspawn polls with sleeps that double from 1 ms; waiting in short slices keeps
        // the delay between the function returning and us noticing it below ~20 ms.
        let slice = match deadline {
            Some(deadline) => deadline
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(20)),
            None => Duration::from_millis(20),
        };
        match handle.join_timeout(slice) {
            Ok(result) => return Ok(Some(result)),
            Err(err) if err.is_timeout() => {
                if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                    // `kill` sends SIGKILL (TerminateProcess on Windows) and reaps the child.
                    handle.kill().map_err(|source| Error::Call { source })?;
                    return Ok(None);
                }
            }
            Err(err) => {
                if let Some(panic) = err.panic_info() {
                    return Err(Error::Panicked {
                        message: panic.message().to_owned(),
                        location: panic
                            .location()
                            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())),
                    });
                }
                return Err(Error::Call { source: err });
            }
        }
    }
}
