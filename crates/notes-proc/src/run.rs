//! `run`, `run_with_timeout` and `run_streaming`: one engine that starts a command in its own
//! process group (under the subreaper helper when it can), reads its pipes on a thread (so a
//! full pipe never blocks it), waits with a deadline, and at the deadline stops the whole
//! tree, never just the leader.

use std::io::{self, Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::command::{command_line, spawn_error};
use crate::{Error, Result, Signal, Status, reaper};

/// How long output is still read after the command's tree was stopped (or its leftovers
/// killed): the pipes are at end of file at once unless a process out of reach still holds
/// them.
const DRAIN: Duration = Duration::from_millis(100);

/// How often forwarded signals are looked at while the output of what a command left running
/// is read.
const FORWARD_POLL: Duration = Duration::from_millis(20);

/// The deadline and the way to stop a command, for [`run_with_timeout`].
///
/// ```
/// use std::time::Duration;
/// use notes_proc::{Limit, Signal};
///
/// // SIGTERM at 4 s, SIGKILL at 4.5 s for whatever of the tree is still alive.
/// let limit = Limit::new(Duration::from_secs(4))
///     .signal(Signal::Term)
///     .kill_after(Duration::from_millis(500));
/// assert_eq!(limit.timeout(), Duration::from_secs(4));
/// ```
#[derive(Debug, Clone)]
pub struct Limit {
    timeout: Duration,
    signal: Signal,
    kill_after: Duration,
    capture: bool,
    max_output: usize,
    foreground: bool,
    forward: Option<Forward>,
    kill_leftovers: bool,
    inherit_stdin: bool,
}

impl Limit {
    /// A limit of `timeout`, enforced with `SIGKILL` to the whole process tree, capturing
    /// standard output and standard error (standard input is empty unless
    /// [`inherit_stdin`](Self::inherit_stdin)).
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            signal: Signal::Kill,
            kill_after: Duration::from_secs(1),
            capture: true,
            max_output: usize::MAX,
            foreground: false,
            forward: None,
            kill_leftovers: false,
            inherit_stdin: false,
        }
    }

    /// The signal sent to the command's tree at the deadline (default `KILL`).
    ///
    /// With any other signal the tree gets `SIGCONT` too (so a stopped process sees it), and
    /// whatever is still alive [`kill_after`](Self::kill_after) later is killed with `SIGKILL`.
    pub fn signal(mut self, signal: Signal) -> Self {
        self.signal = signal;
        self
    }

    /// The grace period between [`signal`](Self::signal) and `SIGKILL` (default 1 s);
    /// `Duration::MAX` never sends `SIGKILL`.
    pub fn kill_after(mut self, grace: Duration) -> Self {
        self.kill_after = grace;
        self
    }

    /// Whether to capture standard output and standard error (default `true`). With `false`
    /// the command inherits all three standard streams, like GNU `timeout`, and the
    /// [`Outcome`] holds no output. (Under the subreaper helper, see [`run_with_timeout`],
    /// these are this process's streams: a `Stdio` set on the `Command` is not used.)
    pub fn capture(mut self, capture: bool) -> Self {
        self.capture = capture;
        self
    }

    /// Keep at most `bytes` of each stream (default: no limit). The rest is read and dropped,
    /// so the command never blocks on a full pipe, and [`Outcome::truncated`] is set.
    pub fn max_output(mut self, bytes: usize) -> Self {
        self.max_output = bytes;
        self
    }

    /// Run the command in this process's own process group instead of a new one (default
    /// `false`), like GNU `timeout --foreground`.
    ///
    /// A command in a group of its own is not in the terminal's foreground group, so reading
    /// from the terminal stops it (`SIGTTIN`) and Ctrl-C does not reach it. In the foreground
    /// the command can read the terminal and gets the terminal's signals, but at the deadline
    /// only the command itself is signalled: its children and grandchildren are not killed.
    pub fn foreground(mut self, foreground: bool) -> Self {
        self.foreground = foreground;
        self
    }

    /// Pass on the signals given to `forward` (from a signal handler thread, say) to the
    /// command while it runs, as GNU `timeout` passes on the `INT`, `TERM` and `HUP` it gets.
    /// A forwarded signal stops the command as the deadline would, grace period included,
    /// but the [`Outcome`] is not `timed_out`.
    pub fn forward(mut self, forward: &Forward) -> Self {
        self.forward = Some(forward.clone());
        self
    }

    /// Kill what the command leaves running when it exits by itself (default `false`).
    ///
    /// By default a command that exits before the deadline ends the run and what it started
    /// in the background runs on, as with GNU `timeout` and Python's `subprocess`; the tree
    /// is stopped only at the deadline or on a [forwarded](Self::forward) signal. With `true`
    /// the leftovers get `SIGKILL` the moment the command exits (the whole tree under the
    /// subreaper helper, the command's process group otherwise).
    pub fn kill_leftovers(mut self, kill: bool) -> Self {
        self.kill_leftovers = kill;
        self
    }

    /// Give the command this program's standard input (default `false`: an empty one, as
    /// `/dev/null`). Python's `subprocess.run` and `check_output` pass theirs on unless told
    /// otherwise; `notes run` does too. Without capture the command inherits it anyway.
    pub fn inherit_stdin(mut self, inherit: bool) -> Self {
        self.inherit_stdin = inherit;
        self
    }

    /// The time limit.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// A handle that passes signals on to a command run by [`run_with_timeout`] with
/// [`Limit::forward`], from any thread: the way to make Ctrl-C or `SIGTERM` sent to this
/// program reach a command that runs in its own process group.
///
/// ```
/// # #[cfg(unix)] {
/// use std::process::Command;
/// use std::time::Duration;
/// use notes_proc::{Forward, Limit, Signal, Status};
///
/// let forward = Forward::new();
/// let limit = Limit::new(Duration::from_secs(30)).forward(&forward);
/// // A signal that arrives before the command starts is passed on as soon as it starts.
/// forward.signal(Signal::Term);
/// let outcome = notes_proc::run_with_timeout(Command::new("sleep").arg("30"), &limit)?;
/// assert!(!outcome.timed_out);
/// assert_eq!(outcome.status, Status::Signal(15));
/// # }
/// # Ok::<(), notes_proc::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Forward {
    state: Arc<Mutex<ForwardState>>,
}

#[derive(Debug, Default)]
struct ForwardState {
    /// The running command's event channel, while one runs.
    running: Option<mpsc::Sender<Event>>,
    /// A signal that came while no command ran; the next command gets it when it starts.
    pending: Option<Signal>,
}

impl Forward {
    /// A handle that forwards nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends `signal` to the running command (its whole tree, see [`run_with_timeout`], unless
    /// [`Limit::foreground`]), then `SIGKILL` after [`Limit::kill_after`] to whatever is left.
    /// With no command running, the next one to start gets it at once.
    pub fn signal(&self, signal: Signal) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let delivered = state
            .running
            .as_ref()
            .is_some_and(|running| running.send(Event::Signal(signal)).is_ok());
        if !delivered {
            state.pending = Some(signal);
        }
    }

    /// Makes `events` the channel signals go to until the returned guard is dropped.
    fn attach(&self, events: mpsc::Sender<Event>) -> Attached<'_> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(signal) = state.pending.take() {
            // The receiver is alive: `execute` holds it for as long as the guard lives.
            let _ = events.send(Event::Signal(signal));
        }
        state.running = Some(events);
        Attached(self)
    }
}

/// Detaches a [`Forward`] from a command that has ended.
struct Attached<'a>(&'a Forward);

impl Drop for Attached<'_> {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.running = None;
    }
}

/// What the waiting side of [`execute`] hears about: the leader ended, or a signal is to be
/// passed on.
#[derive(Debug)]
enum Event {
    /// Only the Unix waiter thread reports the leader's end this way (it is not reaped yet).
    #[cfg(unix)]
    Exited(io::Result<()>),
    Signal(Signal),
}

/// Why a wait for the leader returned.
enum Wake {
    Exited(ExitStatus),
    Deadline,
    Signal(Signal),
}

/// What a command did: how it ended, whether the deadline ended it, and its output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// How the command's first process ended (after a timeout: usually killed by the signal).
    pub status: Status,
    /// True when the deadline passed and the tree was signalled.
    pub timed_out: bool,
    /// Standard output, as far as it was written (empty when not captured).
    pub stdout: Vec<u8>,
    /// Standard error, as far as it was written (empty when not captured).
    pub stderr: Vec<u8>,
    /// True when [`Limit::max_output`] dropped some output.
    pub truncated: bool,
    /// Time from the start to the end of the command.
    pub elapsed: Duration,
}

/// Runs `cmd` to completion and returns the non-empty lines of its standard output, as the
/// notes' `subprocess.check_output(cmd).decode()` then `split("\n")` and filter do.
///
/// Standard output and standard error are read at the same time (a command that writes
/// megabytes to both never deadlocks), standard input is empty, and the command runs in its
/// own process group. All of standard output is kept; of standard error only the last 64 KiB,
/// for the error message. What the command leaves running in the background when it exits is
/// not killed, and its output is read to the end, as Python's `check_output` does: `run`
/// returns once every process holding the pipes has closed them (a background job that
/// should not be waited for must not hold them: `cmd > /dev/null 2>&1 &`).
///
/// # Errors
/// [`Error::NotFound`] for a missing program, [`Error::Failed`] (with the status, the tail
/// of standard error and how much of it the message leaves out) for a non-zero exit or a signal, [`Error::NotUtf8`] for output that is
/// not text, and [`Error::Spawn`] or [`Error::Io`] when the operating system refuses.
///
/// ```
/// # #[cfg(unix)] {
/// use std::process::Command;
/// let lines = notes_proc::run(Command::new("sh").args(["-c", "echo a; echo; echo b"]))?;
/// assert_eq!(lines, ["a", "b"]);
///
/// let err = notes_proc::run(Command::new("sh").args(["-c", "echo oops >&2; exit 2"]))
///     .unwrap_err();
/// assert_eq!(err.to_string(), r#"command "sh -c 'echo oops >&2; exit 2'" failed: exit status 2: oops"#);
/// # }
/// # Ok::<(), notes_proc::Error>(())
/// ```
#[tracing::instrument(level = "debug", skip_all)]
pub fn run(cmd: &mut Command) -> Result<Vec<String>> {
    let text = run_text(cmd)?;
    Ok(text
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Like [`run`], but returns the whole standard output as text, empty lines and all.
///
/// # Errors
/// As [`run`].
#[tracing::instrument(level = "debug", skip_all)]
pub fn run_text(cmd: &mut Command) -> Result<String> {
    let command = command_line(cmd);
    let streams = Streams::Piped {
        stdout: Sink::new(
            Keep::Head {
                bytes: Vec::new(),
                max: usize::MAX,
            },
            None,
        ),
        stderr: stderr_tail_sink(None),
    };
    let ran = execute(cmd, &command, None, streams)?;
    let outcome = failed_unless_success(command.clone(), ran)?;
    String::from_utf8(outcome.stdout).map_err(|err| Error::NotUtf8 {
        command,
        offset: err.utf8_error().valid_up_to(),
    })
}

/// Runs `cmd` with a deadline. At the deadline the command's whole tree (its children and
/// grandchildren) gets [`Limit::signal`], then `SIGKILL`; it is reaped, and the output
/// written so far comes back with [`Outcome::timed_out`] set.
///
/// It returns within a few milliseconds of the deadline even when a grandchild holds the
/// output pipes open. A command that exits by itself before then, leaving a background job
/// that holds the pipes, returns once the job closes them, or at the deadline (the job runs
/// on either way). A command that ends before the deadline is not an error whatever its
/// status: look at [`Outcome::status`]; what it leaves running then is not killed unless
/// [`Limit::kill_leftovers`].
///
/// # What is killed
/// On Linux, in a program that called [`init`](crate::init) first thing in `main`, the
/// command runs under a small helper process: this executable started again, which makes
/// itself a child subreaper (`PR_SET_CHILD_SUBREAPER`, as tini and systemd do), so every
/// descendant that is orphaned is re-parented to it and none can escape, not even one that
/// left the process group with `setsid`. At the deadline (or on a forwarded signal) the
/// helper signals every descendant it finds under itself in `/proc`, through pidfds (a pid
/// reused meanwhile is never hit), and kills and reaps them until none is left. The helper
/// dies with the thread that called this function (`PR_SET_PDEATHSIG`) and then kills the
/// tree; the command dies with the helper even if the helper is killed with `SIGKILL`. The
/// caller's process is not changed. The helper passes on the command's program, arguments,
/// environment changes (not `env_clear`) and working directory, and the captured or
/// inherited streams; `pre_exec` hooks, `arg0`, uid and gid set on the `Command` are not
/// used.
///
/// Without the helper (no [`init`](crate::init), another Unix, or [`Limit::foreground`])
/// the command leads a process group of its own and the signals go to that group: a
/// descendant that leaves the group (`setsid`, or a new group of a shell's job control) is
/// not reached, as with GNU `timeout`. On Linux the command still dies with the calling
/// thread (`PR_SET_PDEATHSIG`), its descendants do not.
///
/// # Errors
/// [`Error::NotFound`], [`Error::Spawn`] or [`Error::Io`], as for [`run`].
///
/// ```
/// # #[cfg(unix)] {
/// use std::process::Command;
/// use std::time::Duration;
/// use notes_proc::{Limit, Status};
///
/// let limit = Limit::new(Duration::from_millis(200));
/// let outcome = notes_proc::run_with_timeout(
///     Command::new("sh").args(["-c", "sleep 3 & echo started; sleep 3"]),
///     &limit,
/// )?;
/// assert!(outcome.timed_out);
/// assert_eq!(outcome.stdout, b"started\n");
/// assert_eq!(outcome.status, Status::Signal(9));
/// assert!(outcome.elapsed < Duration::from_secs(1));
/// # }
/// # Ok::<(), notes_proc::Error>(())
/// ```
#[tracing::instrument(level = "debug", skip_all)]
pub fn run_with_timeout(cmd: &mut Command, limit: &Limit) -> Result<Outcome> {
    let command = command_line(cmd);
    let streams = if limit.capture {
        let head = || {
            Sink::new(
                Keep::Head {
                    bytes: Vec::new(),
                    max: limit.max_output,
                },
                None,
            )
        };
        Streams::Piped {
            stdout: head(),
            stderr: head(),
        }
    } else {
        Streams::Inherit
    };
    Ok(execute(cmd, &command, Some(limit), streams)?.outcome)
}

/// Like [`run_with_timeout`], but passes the command's standard output and standard error
/// on to `stdout` and `stderr` as they come, byte for byte, without keeping them: memory use
/// does not grow with the output. Standard input is empty unless [`Limit::inherit_stdin`];
/// what the command leaves running when it exits by itself is read to the end of its output
/// (until the deadline at the latest), as Python's `communicate()` does. [`Limit::capture`] and
/// [`Limit::max_output`] do not apply. [`Outcome::stdout`] is empty and [`Outcome::stderr`]
/// holds the last 64 KiB of standard error (for a message), with [`Outcome::truncated`] set
/// when that is not all of it.
///
/// When a writer fails (a closed pipe downstream, a full disk), its pipe from the command is
/// closed, as a shell pipeline would, so a command that goes on writing gets `SIGPIPE`; the
/// error comes back once the command has ended.
///
/// # Errors
/// As [`run_with_timeout`], and [`Error::Io`] (with the writer's error as its source) when a
/// writer failed.
///
/// ```
/// # #[cfg(unix)] {
/// use std::process::Command;
/// use std::time::Duration;
/// use notes_proc::{Limit, Status};
///
/// // Standard output straight to this program's own, as it comes; standard error dropped
/// // (but its tail kept in the outcome).
/// let limit = Limit::new(Duration::from_secs(10));
/// let outcome = notes_proc::run_streaming(
///     Command::new("sh").args(["-c", "echo progress; echo oops >&2; exit 3"]),
///     &limit,
///     std::io::stdout(),
///     std::io::sink(),
/// )?;
/// assert_eq!(outcome.status, Status::Code(3));
/// assert_eq!(outcome.stderr, b"oops\n");
/// # }
/// # Ok::<(), notes_proc::Error>(())
/// ```
#[tracing::instrument(level = "debug", skip_all)]
pub fn run_streaming(
    cmd: &mut Command,
    limit: &Limit,
    stdout: impl Write + Send + 'static,
    stderr: impl Write + Send + 'static,
) -> Result<Outcome> {
    let command = command_line(cmd);
    let streams = Streams::Piped {
        stdout: Sink::new(Keep::Nothing, Some(Box::new(stdout))),
        stderr: stderr_tail_sink(Some(Box::new(stderr))),
    };
    let mut ran = execute(cmd, &command, Some(limit), streams)?;
    if let Some(source) = ran.write_error.take() {
        return Err(Error::Io {
            command,
            action: "passing its output on",
            source,
        });
    }
    // Only the kept tail counts here: nothing else was meant to be kept.
    ran.outcome.truncated = ran.stderr_dropped > 0;
    Ok(ran.outcome)
}

/// A sink that keeps the last [`STDERR_TAIL`] bytes of standard error (and passes all of it
/// on to `write`, if given).
fn stderr_tail_sink(write: Option<Box<dyn Write + Send>>) -> SharedSink {
    Sink::new(
        Keep::Tail {
            bytes: Vec::new(),
            max: STDERR_TAIL,
        },
        write,
    )
}

/// [`Error::Failed`] for a command that did not exit with 0, with its standard error's tail
/// and the count of bytes that the message leaves out.
fn failed_unless_success(command: String, ran: Ran) -> Result<Outcome> {
    if ran.outcome.status.success() {
        return Ok(ran.outcome);
    }
    let (stderr_tail, left_out) = tail(&ran.outcome.stderr);
    Err(Error::Failed {
        command,
        status: ran.outcome.status,
        stderr_tail,
        stderr_omitted: ran.stderr_dropped + left_out as u64,
    })
}

/// How much of standard error [`run`], [`run_text`] and [`run_streaming`] keep for the error
/// message: the last 64 KiB (the message shows at most the last 400 bytes of it).
const STDERR_TAIL: usize = 64 * 1024;

/// What is kept of one output stream.
enum Keep {
    /// Nothing (the bytes only go to a writer).
    Nothing,
    /// The first `max` bytes.
    Head { bytes: Vec<u8>, max: usize },
    /// The last `max` bytes: a buffer trimmed to `max` whenever it passes `2 * max`.
    Tail { bytes: Vec<u8>, max: usize },
}

/// Where one output pipe's bytes go: kept (all, the first or the last bytes), passed on to a
/// writer, or both. Filled by the reader thread, emptied by [`execute`] at the end.
struct Sink {
    keep: Keep,
    write: Option<Box<dyn Write + Send>>,
    /// The first failure of `write`; no more is written after it.
    write_error: Option<io::Error>,
    /// Bytes read in all.
    total: u64,
    /// Bytes read but not kept.
    dropped: u64,
    /// Set once [`execute`] returns: a reader still running (a process that left the group
    /// holds the pipe) drops the pipe at its next read instead of writing on.
    closed: bool,
}

impl Sink {
    fn new(keep: Keep, write: Option<Box<dyn Write + Send>>) -> Arc<Mutex<Self>> {
        Arc::new(Mutex::new(Self {
            keep,
            write,
            write_error: None,
            total: 0,
            dropped: 0,
            closed: false,
        }))
    }

    /// Takes one chunk; false when the pipe is to be dropped (closed, or its writer failed).
    fn take(&mut self, chunk: &[u8]) -> bool {
        if self.closed {
            return false;
        }
        self.total += chunk.len() as u64;
        match &mut self.keep {
            Keep::Nothing => self.dropped += chunk.len() as u64,
            Keep::Head { bytes, max } => {
                let keep = chunk.len().min(max.saturating_sub(bytes.len()));
                bytes.extend_from_slice(&chunk[..keep]);
                self.dropped += (chunk.len() - keep) as u64;
            }
            Keep::Tail { bytes, max } => {
                bytes.extend_from_slice(chunk);
                if bytes.len() > max.saturating_mul(2) {
                    let cut = bytes.len() - *max;
                    bytes.drain(..cut);
                    self.dropped += cut as u64;
                }
            }
        }
        if let Some(write) = &mut self.write
            && let Err(err) = write.write_all(chunk)
        {
            self.write = None;
            self.write_error = Some(err);
            return false;
        }
        true
    }

    /// What was kept, with the count of bytes read but not kept.
    fn finish(&mut self) -> (Vec<u8>, u64) {
        self.closed = true;
        if let Some(write) = &mut self.write
            && let Err(err) = write.flush()
        {
            self.write_error.get_or_insert(err);
        }
        let bytes = match &mut self.keep {
            Keep::Nothing => Vec::new(),
            Keep::Head { bytes, .. } => std::mem::take(bytes),
            Keep::Tail { bytes, max } => {
                let cut = bytes.len().saturating_sub(*max);
                self.dropped += cut as u64;
                bytes.split_off(cut)
            }
        };
        (bytes, self.dropped)
    }
}

type SharedSink = Arc<Mutex<Sink>>;

fn lock(sink: &SharedSink) -> std::sync::MutexGuard<'_, Sink> {
    sink.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads the command's output pipes to their ends on a thread, into their sinks, and sends
/// one `done` per pipe as it ends.
///
/// On Unix one thread reads both pipes, woken by `poll(2)` (a thread costs about 30 µs to
/// start here, a tenth of running `true`); elsewhere each pipe gets a thread.
#[cfg(unix)]
fn start_readers(
    pipes: Vec<(std::fs::File, SharedSink)>,
    done: mpsc::Sender<()>,
) -> io::Result<()> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;

    thread::Builder::new()
        .name("notes-proc-reader".into())
        .spawn(move || {
            let mut open = pipes;
            let mut chunk = vec![0; 64 * 1024];
            while !open.is_empty() {
                let ready: Vec<bool> = {
                    let mut fds: Vec<PollFd<'_>> = open
                        .iter()
                        .map(|(pipe, _)| PollFd::new(pipe.as_fd(), PollFlags::POLLIN))
                        .collect();
                    match poll(&mut fds, PollTimeout::NONE) {
                        Ok(_) => fds
                            .iter()
                            .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
                            .collect(),
                        Err(nix::errno::Errno::EINTR) => continue,
                        // Cannot wait on the pipes: give up on them as a failed read would.
                        Err(_) => break,
                    }
                };
                // Readable (or closed): one read cannot block. Back to front, so that a pipe
                // that ended can be removed.
                for i in (0..open.len()).rev() {
                    if !ready[i] {
                        continue;
                    }
                    let keep_open = match open[i].0.read(&mut chunk) {
                        Ok(0) => false,
                        Ok(n) => lock(&open[i].1).take(&chunk[..n]),
                        Err(err) => err.kind() == io::ErrorKind::Interrupted,
                    };
                    if !keep_open {
                        open.remove(i);
                        let _ = done.send(());
                    }
                }
            }
            // The receiver may have stopped waiting; nothing to do about it here.
            for _ in open {
                let _ = done.send(());
            }
        })
        .map(drop)
}

#[cfg(not(unix))]
fn start_readers(
    pipes: Vec<(std::fs::File, SharedSink)>,
    done: mpsc::Sender<()>,
) -> io::Result<()> {
    for (mut pipe, sink) in pipes {
        let done = done.clone();
        thread::Builder::new()
            .name("notes-proc-reader".into())
            .spawn(move || {
                let mut chunk = vec![0; 64 * 1024];
                loop {
                    match pipe.read(&mut chunk) {
                        Ok(0) => break,
                        Ok(n) => {
                            if !lock(&sink).take(&chunk[..n]) {
                                break;
                            }
                        }
                        Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                // The receiver may have stopped waiting; nothing to do about it here.
                let _ = done.send(());
            })?;
    }
    Ok(())
}

/// A child's output pipe (`ChildStdout`, `ChildStderr`) as a `File`, so that one reader can
/// take both.
trait PipeInto {
    fn into_file(self) -> std::fs::File;
}

#[cfg(unix)]
impl<P: Into<std::os::fd::OwnedFd>> PipeInto for P {
    fn into_file(self) -> std::fs::File {
        std::fs::File::from(self.into())
    }
}

#[cfg(windows)]
impl<P: Into<std::os::windows::io::OwnedHandle>> PipeInto for P {
    fn into_file(self) -> std::fs::File {
        std::fs::File::from(self.into())
    }
}

/// What [`execute`] does with the command's standard streams.
enum Streams {
    /// Empty standard input; both outputs piped into these sinks.
    Piped {
        stdout: SharedSink,
        stderr: SharedSink,
    },
    /// All three inherited from this process.
    Inherit,
}

/// What [`execute`] found out, before it is shaped into an [`Outcome`] or an error.
struct Ran {
    outcome: Outcome,
    /// Bytes of standard error read but not kept.
    stderr_dropped: u64,
    /// The first failure of a writer given to [`run_streaming`].
    write_error: Option<io::Error>,
}

/// The shared engine of [`run`] (no limit), [`run_with_timeout`] and [`run_streaming`].
fn execute(
    cmd: &mut Command,
    command: &str,
    limit: Option<&Limit>,
    streams: Streams,
) -> Result<Ran> {
    if cmd.get_program().is_empty() {
        return Err(Error::EmptyCommand);
    }
    let io_error = |action: &'static str| {
        move |source| Error::Io {
            command: command.to_owned(),
            action,
            source,
        }
    };
    let foreground = limit.is_some_and(|limit| limit.foreground);
    let kill_leftovers = limit.is_some_and(|limit| limit.kill_leftovers);
    let piped = matches!(streams, Streams::Piped { .. });
    let inherit_stdin = limit.is_some_and(|limit| limit.inherit_stdin);
    // With a limit (the caller wants the tree stopped at the deadline or on a signal), the
    // command runs under the subreaper helper when this program can start one.
    let use_helper = limit.is_some() && !foreground && reaper::available();

    let start = Instant::now();
    let (mut child, mode) = if use_helper {
        let (child, report, pid) = reaper::spawn(cmd, kill_leftovers, piped, inherit_stdin)
            .map_err(|source| spawn_error(cmd, command, source))?;
        (child, group::Mode::helper(report, pid))
    } else {
        if piped {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            if !inherit_stdin {
                cmd.stdin(Stdio::null());
            }
        }
        if !foreground {
            group::new_process_group(cmd);
        }
        if limit.is_some() {
            group::die_with_this_thread(cmd);
        }
        let child = cmd
            .spawn()
            .map_err(|source| spawn_error(cmd, command, source))?;
        (child, group::Mode::direct(foreground))
    };
    // A deadline too far away to represent is no deadline (but forwarded signals still count).
    let deadline = limit.map(|limit| (start.checked_add(limit.timeout), limit));

    let (done_tx, done_rx) = mpsc::channel();
    let mut pipes = Vec::with_capacity(2);
    let mut sinks = None;
    if let Streams::Piped { stdout, stderr } = streams {
        if let Some(pipe) = child.stdout.take() {
            pipes.push((pipe.into_file(), Arc::clone(&stdout)));
        }
        if let Some(pipe) = child.stderr.take() {
            pipes.push((pipe.into_file(), Arc::clone(&stderr)));
        }
        sinks = Some((stdout, stderr));
    }
    let readers = pipes.len();
    if readers > 0 {
        start_readers(pipes, done_tx).map_err(io_error("starting a thread to read its output"))?;
    } else {
        drop(done_tx);
    }

    let (events_tx, events_rx) = mpsc::channel();
    let mut leader =
        group::Leader::start(child, mode, kill_leftovers, events_tx.clone(), events_rx)
            .map_err(io_error("starting to wait for it"))?;
    let _attached = limit
        .and_then(|limit| limit.forward.as_ref())
        .map(|forward| forward.attach(events_tx));
    let mut timed_out = false;
    let mut stopped = false;
    let status = match deadline {
        None => leader.wait().map_err(io_error("waiting for it"))?,
        Some((deadline, limit)) => match leader
            .wait_until(deadline)
            .map_err(io_error("waiting for it"))?
        {
            Wake::Exited(status) => status,
            Wake::Deadline => {
                timed_out = true;
                stopped = true;
                stop(&mut leader, limit, limit.signal)
                    .map_err(io_error("killing its process tree"))?
            }
            Wake::Signal(signal) => {
                stopped = true;
                stop(&mut leader, limit, signal).map_err(io_error("passing a signal on to it"))?
            }
        },
    };
    let elapsed = start.elapsed();

    // What the command left running in the background may hold the pipes open. After a
    // normal exit it runs on, and its output is read to the end, as Python's `communicate()`
    // does (closing the pipes would kill it with SIGPIPE at its next write): until the
    // deadline at the latest, or a forwarded signal, which goes to what is left of the
    // command's process group. After the tree was stopped (or the leftovers killed), only
    // what is already in the pipes is read.
    let mut drain_end = if stopped || kill_leftovers {
        Some(Instant::now() + DRAIN)
    } else {
        deadline.and_then(|(deadline, _)| deadline)
    };
    let mut left_to_end = readers;
    while left_to_end > 0 {
        let now = Instant::now();
        if drain_end.is_some_and(|end| now >= end) {
            break;
        }
        // Forwarded signals are looked at every 20 ms.
        let slice = drain_end.map_or(FORWARD_POLL, |end| (end - now).min(FORWARD_POLL));
        match done_rx.recv_timeout(slice) {
            Ok(()) => left_to_end -= 1,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(signal) = leader.forwarded() {
                    leader
                        .signal_leftovers(signal)
                        .map_err(io_error("passing a signal on to what it left running"))?;
                    let end = Instant::now() + DRAIN;
                    drain_end = Some(drain_end.map_or(end, |old| old.min(end)));
                }
            }
        }
    }
    let mut ran = Ran {
        outcome: Outcome {
            status: Status::from_std(status),
            timed_out,
            stdout: Vec::new(),
            stderr: Vec::new(),
            truncated: false,
            elapsed,
        },
        stderr_dropped: 0,
        write_error: None,
    };
    if let Some((stdout, stderr)) = sinks {
        let (mut out, mut err) = (lock(&stdout), lock(&stderr));
        let (out_bytes, out_dropped) = out.finish();
        let (err_bytes, err_dropped) = err.finish();
        ran.outcome.truncated = out_dropped > 0 || err_dropped > 0;
        ran.outcome.stdout = out_bytes;
        ran.outcome.stderr = err_bytes;
        ran.stderr_dropped = err_dropped;
        ran.write_error = out.write_error.take().or_else(|| err.write_error.take());
    }
    Ok(ran)
}

/// Ends a command that overran its deadline or got a forwarded signal: `signal`, then
/// `SIGKILL` after the grace period, to the whole tree; returns the leader's status once it
/// is reaped (what is left of the tree then is killed as it is reaped). Signals forwarded
/// during the grace period are passed on too.
fn stop(leader: &mut group::Leader, limit: &Limit, signal: Signal) -> io::Result<ExitStatus> {
    leader.signal(signal)?;
    if signal != Signal::Kill {
        // As GNU timeout does: a stopped process only acts on the signal once continued.
        leader.resume()?;
        // A grace period too long to represent never ends: no KILL.
        let grace_end = Instant::now().checked_add(limit.kill_after);
        loop {
            match leader.wait_until(grace_end)? {
                Wake::Exited(status) => return Ok(status),
                Wake::Signal(signal) => leader.signal(signal)?,
                Wake::Deadline => break,
            }
        }
        leader.signal(Signal::Kill)?;
    }
    leader.wait()
}

/// The last lines of a command's standard error, for an error message: at most three
/// non-empty lines, joined with "; ", and at most 400 bytes (the end is kept); with the count
/// of bytes of `stderr` before what is shown.
pub(crate) fn tail(stderr: &[u8]) -> (String, usize) {
    let mut lines = Vec::new();
    let mut offset = 0;
    for line in stderr.split(|&b| b == b'\n') {
        let trimmed = line.trim_ascii_end();
        if !trimmed.is_empty() {
            lines.push((offset, trimmed));
        }
        offset += line.len() + 1;
    }
    let shown = &lines[lines.len().saturating_sub(3)..];
    let before = shown.first().map_or(stderr.len(), |(offset, _)| *offset);
    let joined = shown
        .iter()
        .map(|(_, line)| String::from_utf8_lossy(line))
        .collect::<Vec<_>>()
        .join("; ");
    const MAX: usize = 400;
    if joined.len() <= MAX {
        return (joined, before);
    }
    let mut cut = joined.len() - MAX;
    while !joined.is_char_boundary(cut) {
        cut += 1;
    }
    (format!("...{}", &joined[cut..]), before + cut)
}

/// Sends `SIGKILL` to the process group `pgid`; a group that is already gone is fine.
#[cfg(unix)]
pub(crate) fn kill_group(pgid: nix::unistd::Pid) -> io::Result<()> {
    group::signal_group(pgid, nix::sys::signal::Signal::SIGKILL)
}

#[cfg(unix)]
mod group {
    //! Waiting for and signalling the command on Unix. The command leads a new process group
    //! (`setpgid(0, 0)`, through std's `process_group`) and signals go to the group with
    //! `killpg`; under the subreaper helper they go to the helper, which passes them on to the
    //! whole tree; in the foreground (no group of its own) to the command's process only.
    //!
    //! A thread blocks in `waitid(WNOWAIT)`, which reports the end without reaping, so that
    //! the deadline wait is a channel receive with a timeout (no polling) and the pid stays
    //! ours (a zombie) until this side reaps it: a signal never reaches a reused pid.

    use std::io::{self, Read};
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::{Child, Command, ExitStatus};
    use std::sync::mpsc;
    use std::thread;
    use std::time::Instant;

    use nix::errno::Errno;
    use nix::sys::signal::{self, kill, killpg};
    use nix::unistd::Pid;

    use super::{Event, Wake};
    use crate::{Signal, reaper};

    pub(super) fn new_process_group(cmd: &mut Command) {
        cmd.process_group(0);
    }

    /// On Linux, makes the command die (`SIGKILL`) when the thread that starts it ends, for
    /// this process being killed included; elsewhere nothing.
    pub(super) fn die_with_this_thread(cmd: &mut Command) {
        #[cfg(target_os = "linux")]
        {
            let parent = nix::unistd::getpid();
            // SAFETY: the hook runs in the forked child before exec and makes only the
            // async-signal-safe `prctl` and `getppid` system calls; it allocates nothing.
            #[allow(unsafe_code)]
            unsafe {
                cmd.pre_exec(move || {
                    nix::sys::prctl::set_pdeathsig(signal::Signal::SIGKILL)?;
                    // The parent died before the prctl: it will not fire, so do not start.
                    if nix::unistd::getppid() != parent {
                        return Err(io::Error::from_raw_os_error(libc_esrch()));
                    }
                    Ok(())
                });
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = cmd;
    }

    #[cfg(target_os = "linux")]
    fn libc_esrch() -> i32 {
        Errno::ESRCH as i32
    }

    /// How the command was started, which decides where signals go.
    pub(super) enum Mode {
        /// It leads a process group of its own.
        Group,
        /// It is in this process's group.
        Foreground,
        /// It is the subreaper helper, which reports the command's status on this pipe.
        Helper {
            report: io::PipeReader,
            /// The command's pid, which is also its process group's id.
            command: Pid,
        },
    }

    impl Mode {
        pub(super) fn direct(foreground: bool) -> Self {
            if foreground {
                Mode::Foreground
            } else {
                Mode::Group
            }
        }

        pub(super) fn helper(report: io::PipeReader, command: i32) -> Self {
            Mode::Helper {
                report,
                command: Pid::from_raw(command),
            }
        }
    }

    pub(super) struct Leader {
        child: Child,
        /// The command's pid, which is also its process group's id in [`Mode::Group`].
        pid: Pid,
        mode: Mode,
        kill_leftovers: bool,
        /// Set once a signal was sent: what is left when the leader ends is killed then.
        stopping: bool,
        events: mpsc::Receiver<Event>,
        status: Option<ExitStatus>,
    }

    /// `killpg`, where a group that no longer exists is not an error: it is what we want.
    pub(super) fn signal_group(pgid: Pid, signal: signal::Signal) -> io::Result<()> {
        match killpg(pgid, signal) {
            Ok(()) | Err(Errno::ESRCH) => Ok(()),
            Err(errno) => Err(errno.into()),
        }
    }

    impl Leader {
        pub(super) fn start(
            child: Child,
            mode: Mode,
            kill_leftovers: bool,
            tx: mpsc::Sender<Event>,
            events: mpsc::Receiver<Event>,
        ) -> io::Result<Self> {
            let raw = i32::try_from(child.id()).map_err(io::Error::other)?;
            let pid = Pid::from_raw(raw);
            thread::Builder::new()
                .name("notes-proc-waiter".into())
                .spawn(move || {
                    let _ = tx.send(Event::Exited(wait_without_reaping(pid)));
                })?;
            Ok(Self {
                child,
                pid,
                mode,
                kill_leftovers,
                stopping: false,
                events,
                status: None,
            })
        }

        /// The leader has ended (and is a zombie): kill what it leaves behind if asked to,
        /// reap it, and find the command's status.
        fn reap(&mut self) -> io::Result<ExitStatus> {
            if matches!(self.mode, Mode::Group) && (self.kill_leftovers || self.stopping) {
                // The group's id cannot name another group while the leader is a zombie.
                signal_group(self.pid, signal::Signal::SIGKILL)?;
            }
            let mut status = self.child.wait()?;
            if let Mode::Helper { report, command } = &mut self.mode {
                let mut message = [0; reaper::MESSAGE];
                if report.read_exact(&mut message).is_ok()
                    && let Some(raw) = reaper::ended(&message)
                {
                    status = ExitStatus::from_raw(raw);
                } else {
                    // The helper was killed (its own status says how) and could not clean
                    // up: the command died with it (PR_SET_PDEATHSIG); kill what is left of
                    // its process group. Descendants that left the group are out of reach.
                    let _ = signal_group(*command, signal::Signal::SIGKILL);
                }
            }
            self.status = Some(status);
            Ok(status)
        }

        /// Waits for the leader to end, a forwarded signal or the deadline (`None`: no
        /// deadline).
        pub(super) fn wait_until(&mut self, deadline: Option<Instant>) -> io::Result<Wake> {
            if let Some(status) = self.status {
                return Ok(Wake::Exited(status));
            }
            let event = match deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match self.events.recv_timeout(left) {
                        Ok(event) => event,
                        Err(mpsc::RecvTimeoutError::Timeout) => return Ok(Wake::Deadline),
                        Err(mpsc::RecvTimeoutError::Disconnected) => return Err(vanished()),
                    }
                }
                None => self.events.recv().map_err(|_| vanished())?,
            };
            match event {
                Event::Exited(ended) => {
                    ended?;
                    Ok(Wake::Exited(self.reap()?))
                }
                Event::Signal(signal) => Ok(Wake::Signal(signal)),
            }
        }

        /// Waits for the leader to end, whatever signals are forwarded meanwhile.
        pub(super) fn wait(&mut self) -> io::Result<ExitStatus> {
            loop {
                if let Some(status) = self.status {
                    return Ok(status);
                }
                if let Event::Exited(ended) = self.events.recv().map_err(|_| vanished())? {
                    ended?;
                    return self.reap();
                }
            }
        }

        pub(super) fn signal(&mut self, signal: Signal) -> io::Result<()> {
            self.stopping = true;
            let sig = match (&self.mode, signal) {
                // The helper cannot catch SIGKILL: it has a signal of its own for "kill all".
                (Mode::Helper { .. }, Signal::Kill) => reaper::KILL_TREE,
                (Mode::Helper { .. }, _) if signal.to_nix() == signal::Signal::SIGSTOP => {
                    reaper::STOP_TREE
                }
                _ => signal.to_nix(),
            };
            self.send(sig)
        }

        /// A signal forwarded since the last look, if any (without waiting).
        pub(super) fn forwarded(&self) -> Option<Signal> {
            while let Ok(event) = self.events.try_recv() {
                if let Event::Signal(signal) = event {
                    return Some(signal);
                }
            }
            None
        }

        /// Sends `signal` to what is left of the command's process group after the command
        /// ended (its id cannot name another group while a member is alive: a group that is
        /// gone is ESRCH, which is fine). In the foreground the command had no group.
        pub(super) fn signal_leftovers(&self, signal: Signal) -> io::Result<()> {
            let group = match &self.mode {
                Mode::Group => self.pid,
                Mode::Helper { command, .. } => *command,
                Mode::Foreground => return Ok(()),
            };
            signal_group(group, signal.to_nix())
        }

        pub(super) fn resume(&self) -> io::Result<()> {
            match self.mode {
                // The helper continues the tree itself after passing a signal on.
                Mode::Helper { .. } => Ok(()),
                _ => self.send(signal::Signal::SIGCONT),
            }
        }

        fn send(&self, signal: signal::Signal) -> io::Result<()> {
            // A reaped pid may already name another process: never signal it. Until this
            // side reaps it, the pid is ours (a zombie at worst).
            if self.status.is_some() {
                return Ok(());
            }
            let sent = match self.mode {
                Mode::Group => killpg(self.pid, signal),
                Mode::Foreground | Mode::Helper { .. } => kill(self.pid, signal),
            };
            match sent {
                Ok(()) | Err(Errno::ESRCH) => Ok(()),
                Err(errno) => Err(errno.into()),
            }
        }
    }

    /// Blocks until `pid` (our child) has ended, leaving it a zombie: `waitid(WNOWAIT)`.
    fn wait_without_reaping(pid: Pid) -> io::Result<()> {
        let id = nix::libc::id_t::try_from(pid.as_raw()).map_err(io::Error::other)?;
        loop {
            // SAFETY: siginfo_t is plain data, for which all zeroes is a valid value.
            #[allow(unsafe_code)]
            let mut info: nix::libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: waitid writes into `info`, which lives for the call; WNOWAIT leaves the
            // child unreaped. (nix has no waitid on every Unix; libc has.)
            #[allow(unsafe_code)]
            let done = unsafe {
                nix::libc::waitid(
                    nix::libc::P_PID,
                    id,
                    &mut info,
                    nix::libc::WEXITED | nix::libc::WNOWAIT,
                )
            };
            if done == 0 {
                return Ok(());
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    fn vanished() -> io::Error {
        io::Error::other("the thread waiting for the process ended without its status")
    }
}

#[cfg(not(unix))]
mod group {
    //! Elsewhere (Windows): the command gets `CREATE_NEW_PROCESS_GROUP`, waiting polls
    //! `try_wait` and the forwarded signals every millisecond, and "signalling" terminates the
    //! leader process (Windows has no signals; children of the command are not reached).

    use std::io;
    use std::process::{Child, Command, ExitStatus};
    use std::sync::mpsc;
    use std::thread;
    use std::time::{Duration, Instant};

    use super::{Event, Wake};
    use crate::Signal;

    pub(super) fn new_process_group(cmd: &mut Command) {
        #[cfg(windows)]
        {
            use std::os::windows::process::CommandExt;
            const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
            cmd.creation_flags(CREATE_NEW_PROCESS_GROUP);
        }
        #[cfg(not(windows))]
        let _ = cmd;
    }

    pub(super) fn die_with_this_thread(_cmd: &mut Command) {}

    /// How the command was started (one way only here).
    pub(super) struct Mode;

    impl Mode {
        pub(super) fn direct(_foreground: bool) -> Self {
            Mode
        }

        pub(super) fn helper(_report: std::io::PipeReader, _command: i32) -> Self {
            Mode
        }
    }

    pub(super) struct Leader {
        child: Child,
        events: mpsc::Receiver<Event>,
    }

    impl Leader {
        pub(super) fn start(
            child: Child,
            _mode: Mode,
            _kill_leftovers: bool,
            _tx: mpsc::Sender<Event>,
            events: mpsc::Receiver<Event>,
        ) -> io::Result<Self> {
            Ok(Self { child, events })
        }

        pub(super) fn wait_until(&mut self, deadline: Option<Instant>) -> io::Result<Wake> {
            loop {
                if let Some(status) = self.child.try_wait()? {
                    return Ok(Wake::Exited(status));
                }
                if let Ok(Event::Signal(signal)) = self.events.try_recv() {
                    return Ok(Wake::Signal(signal));
                }
                let left = deadline.map_or(Duration::MAX, |deadline| {
                    deadline.saturating_duration_since(Instant::now())
                });
                if left.is_zero() {
                    return Ok(Wake::Deadline);
                }
                thread::sleep(left.min(Duration::from_millis(1)));
            }
        }

        pub(super) fn wait(&mut self) -> io::Result<ExitStatus> {
            self.child.wait()
        }

        pub(super) fn signal(&mut self, _signal: Signal) -> io::Result<()> {
            match self.child.kill() {
                Err(err) if err.kind() != io::ErrorKind::InvalidInput => Err(err),
                _ => Ok(()),
            }
        }

        pub(super) fn resume(&self) -> io::Result<()> {
            Ok(())
        }

        pub(super) fn forwarded(&self) -> Option<Signal> {
            while let Ok(event) = self.events.try_recv() {
                if let Event::Signal(signal) = event {
                    return Some(signal);
                }
            }
            None
        }

        pub(super) fn signal_leftovers(&self, _signal: Signal) -> io::Result<()> {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tail;

    #[test]
    fn tail_keeps_the_last_three_lines() {
        assert_eq!(tail(b""), (String::new(), 0));
        assert_eq!(
            tail(b"one\n\ntwo\r\nthree\nfour\n"),
            ("two; three; four".to_owned(), 5)
        );
        let long = "x".repeat(1000);
        let (cut, before) = tail(long.as_bytes());
        assert!(cut.starts_with("...") && cut.len() == 403, "{cut}");
        assert_eq!(before, 600);
        let wide = "é".repeat(300);
        assert!(tail(wide.as_bytes()).0.ends_with('é'));
    }
}
