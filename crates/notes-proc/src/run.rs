//! `run` and `run_with_timeout`: one engine that starts a command in its own process group,
//! reads its pipes on threads (so a full pipe never blocks it), waits with a deadline, and
//! kills the whole group, never just the leader.

use std::io::{self, Read};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::command::{command_line, spawn_error};
use crate::{Error, Result, Signal, Status};

/// How long output is still read after the command's process group is gone. Every process of
/// the group is dead by then, so the pipes are at end of file at once unless a process that
/// left the group (a daemon that called `setsid`) still holds them: it is not waited for.
const DRAIN: Duration = Duration::from_millis(100);

/// The deadline and the way to stop a command, for [`run_with_timeout`].
///
/// ```
/// use std::time::Duration;
/// use notes_proc::{Limit, Signal};
///
/// // SIGTERM at 4 s, SIGKILL at 4.5 s for whatever of the process group is still alive.
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
}

impl Limit {
    /// A limit of `timeout`, enforced with `SIGKILL` to the whole process group, capturing
    /// standard output and standard error (standard input is empty).
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            signal: Signal::Kill,
            kill_after: Duration::from_secs(1),
            capture: true,
            max_output: usize::MAX,
            foreground: false,
            forward: None,
        }
    }

    /// The signal sent to the process group at the deadline (default `KILL`).
    ///
    /// With any other signal the group gets `SIGCONT` too (so a stopped process sees it), and
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
    /// [`Outcome`] holds no output.
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

    /// Sends `signal` to the running command (its whole process group, unless
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
    /// Only the Unix waiter thread reports the leader's end this way.
    #[cfg(unix)]
    Exited(io::Result<ExitStatus>),
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
    /// True when the deadline passed and the process group was signalled.
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
/// own process group: what it leaves running in the background when it exits is killed.
///
/// # Errors
/// [`Error::NotFound`] for a missing program, [`Error::Failed`] (with the status and the tail
/// of standard error) for a non-zero exit or a signal, [`Error::NotUtf8`] for output that is
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
    let outcome = execute(cmd, &command, None)?;
    if !outcome.status.success() {
        return Err(Error::Failed {
            command,
            status: outcome.status,
            stderr_tail: tail(&outcome.stderr),
        });
    }
    String::from_utf8(outcome.stdout).map_err(|err| Error::NotUtf8 {
        command,
        offset: err.utf8_error().valid_up_to(),
    })
}

/// Runs `cmd` with a deadline. At the deadline the command's whole process group (its
/// children and grandchildren) gets [`Limit::signal`], then `SIGKILL`; it is reaped, and the
/// output written so far comes back with [`Outcome::timed_out`] set.
///
/// It returns within a few milliseconds of the deadline even when a grandchild holds the
/// output pipes open. A command that ends before the deadline is not an error whatever its
/// status: look at [`Outcome::status`].
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
    execute(cmd, &command, Some(limit))
}

/// One output pipe, filled by a reader thread and readable while it runs.
#[derive(Default)]
struct Capture {
    bytes: Mutex<Vec<u8>>,
    truncated: AtomicBool,
}

impl Capture {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.bytes.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Keeps what fits of `chunk` below `max` bytes in all; marks the rest as dropped.
    fn keep(&self, chunk: &[u8], max: usize) {
        let mut bytes = self.bytes.lock().unwrap_or_else(PoisonError::into_inner);
        let keep = chunk.len().min(max.saturating_sub(bytes.len()));
        bytes.extend_from_slice(&chunk[..keep]);
        if keep < chunk.len() {
            self.truncated.store(true, Ordering::Relaxed);
        }
    }
}

/// Reads the command's output pipes to their ends on a thread, keeping at most `max` bytes
/// of each, and sends one `done` per pipe as it ends.
///
/// On Unix one thread reads both pipes, woken by `poll(2)` (a thread costs about 30 µs to
/// start here, a tenth of running `true`); elsewhere each pipe gets a thread.
#[cfg(unix)]
fn start_readers(
    pipes: Vec<(std::fs::File, Arc<Capture>)>,
    max: usize,
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
                    match open[i].0.read(&mut chunk) {
                        Ok(0) => {
                            open.remove(i);
                            let _ = done.send(());
                        }
                        Ok(n) => open[i].1.keep(&chunk[..n], max),
                        Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => {
                            open.remove(i);
                            let _ = done.send(());
                        }
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
    pipes: Vec<(std::fs::File, Arc<Capture>)>,
    max: usize,
    done: mpsc::Sender<()>,
) -> io::Result<()> {
    for (mut pipe, capture) in pipes {
        let done = done.clone();
        thread::Builder::new()
            .name("notes-proc-reader".into())
            .spawn(move || {
                let mut chunk = vec![0; 64 * 1024];
                loop {
                    match pipe.read(&mut chunk) {
                        Ok(0) => break,
                        Ok(n) => capture.keep(&chunk[..n], max),
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

/// The shared engine of [`run`] (no limit) and [`run_with_timeout`].
fn execute(cmd: &mut Command, command: &str, limit: Option<&Limit>) -> Result<Outcome> {
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
    let capture = limit.is_none_or(|limit| limit.capture);
    let max = limit.map_or(usize::MAX, |limit| limit.max_output);
    if capture {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
    }
    let own_group = limit.is_none_or(|limit| !limit.foreground);
    if own_group {
        group::new_process_group(cmd);
    }

    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|source| spawn_error(cmd, command, source))?;
    // A deadline too far away to represent is no deadline (but forwarded signals still count).
    let deadline = limit.map(|limit| (start.checked_add(limit.timeout), limit));

    let (done_tx, done_rx) = mpsc::channel();
    let (out, err) = (Arc::<Capture>::default(), Arc::<Capture>::default());
    let mut pipes = Vec::with_capacity(2);
    if let Some(pipe) = child.stdout.take() {
        pipes.push((pipe.into_file(), Arc::clone(&out)));
    }
    if let Some(pipe) = child.stderr.take() {
        pipes.push((pipe.into_file(), Arc::clone(&err)));
    }
    let readers = pipes.len();
    if readers > 0 {
        start_readers(pipes, max, done_tx)
            .map_err(io_error("starting a thread to read its output"))?;
    } else {
        drop(done_tx);
    }

    let (events_tx, events_rx) = mpsc::channel();
    let mut leader = group::Leader::start(child, own_group, events_tx.clone(), events_rx)
        .map_err(io_error("starting to wait for it"))?;
    let _attached = limit
        .and_then(|limit| limit.forward.as_ref())
        .map(|forward| forward.attach(events_tx));
    let mut timed_out = false;
    let status = match deadline {
        None => leader.wait().map_err(io_error("waiting for it"))?,
        Some((deadline, limit)) => match leader
            .wait_until(deadline)
            .map_err(io_error("waiting for it"))?
        {
            Wake::Exited(status) => status,
            Wake::Deadline => {
                timed_out = true;
                stop(&mut leader, limit, limit.signal)
                    .map_err(io_error("killing its process group"))?
            }
            Wake::Signal(signal) => {
                stop(&mut leader, limit, signal).map_err(io_error("passing a signal on to it"))?
            }
        },
    };
    let elapsed = start.elapsed();

    let drain_end = Instant::now() + DRAIN;
    for _ in 0..readers {
        let left = drain_end.saturating_duration_since(Instant::now());
        if done_rx.recv_timeout(left).is_err() {
            break;
        }
    }
    Ok(Outcome {
        status: Status::from_std(status),
        timed_out,
        truncated: out.truncated.load(Ordering::Relaxed) || err.truncated.load(Ordering::Relaxed),
        stdout: out.take(),
        stderr: err.take(),
        elapsed,
    })
}

/// Ends a command that overran its deadline or got a forwarded signal: `signal`, then
/// `SIGKILL` after the grace period, to the whole group; returns the leader's status once it
/// is reaped. Signals forwarded during the grace period are passed on too.
fn stop(leader: &mut group::Leader, limit: &Limit, signal: Signal) -> io::Result<ExitStatus> {
    leader.signal(signal)?;
    if signal != Signal::Kill {
        // As GNU timeout does: a stopped process only acts on the signal once continued.
        leader.resume()?;
        // A grace period too long to represent never ends: no KILL.
        let grace_end = Instant::now().checked_add(limit.kill_after);
        loop {
            match leader.wait_until(grace_end)? {
                Wake::Exited(status) => {
                    // The leader is gone; its children may not be.
                    leader.signal(Signal::Kill)?;
                    return Ok(status);
                }
                Wake::Signal(signal) => leader.signal(signal)?,
                Wake::Deadline => break,
            }
        }
        leader.signal(Signal::Kill)?;
    }
    leader.wait()
}

/// The last lines of a command's standard error, for an error message: at most three
/// non-empty lines, joined with "; ", and at most 400 bytes (the end is kept).
pub(crate) fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty())
        .collect();
    let joined = lines[lines.len().saturating_sub(3)..].join("; ");
    const MAX: usize = 400;
    if joined.len() <= MAX {
        return joined;
    }
    let mut cut = joined.len() - MAX;
    while !joined.is_char_boundary(cut) {
        cut += 1;
    }
    format!("...{}", &joined[cut..])
}

/// Sends `SIGKILL` to the process group `pgid`; a group that is already gone is fine.
#[cfg(unix)]
pub(crate) fn kill_group(pgid: nix::unistd::Pid) -> io::Result<()> {
    group::signal_group(pgid, nix::sys::signal::Signal::SIGKILL)
}

#[cfg(unix)]
mod group {
    //! Process groups on Unix: the command leads a new group (`setpgid(0, 0)`, through std's
    //! `process_group`), signals go to the group with `killpg`, and a thread blocks in `wait`
    //! so that the deadline wait is a channel receive with a timeout (no polling). In the
    //! foreground (no group of its own) signals go to the command's process only.

    use std::io;
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command, ExitStatus};
    use std::sync::mpsc;
    use std::thread;
    use std::time::Instant;

    use nix::errno::Errno;
    use nix::sys::signal::{self, kill, killpg};
    use nix::unistd::Pid;

    use super::{Event, Wake};
    use crate::Signal;

    pub(super) fn new_process_group(cmd: &mut Command) {
        cmd.process_group(0);
    }

    pub(super) struct Leader {
        /// The command's pid, which is also its process group's id when `group` is set.
        pid: Pid,
        group: bool,
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
            mut child: Child,
            group: bool,
            tx: mpsc::Sender<Event>,
            events: mpsc::Receiver<Event>,
        ) -> io::Result<Self> {
            let raw = i32::try_from(child.id()).map_err(io::Error::other)?;
            let pid = Pid::from_raw(raw);
            thread::Builder::new()
                .name("notes-proc-waiter".into())
                .spawn(move || {
                    let status = child.wait();
                    // The leader is reaped; what it left behind in its group is killed now,
                    // so nothing outlives the command. The group id cannot name another
                    // group while any member is alive, and a reused pid would have to lead
                    // a new group within microseconds: the same (tiny) window GNU timeout has.
                    if group {
                        let _ = signal_group(pid, signal::Signal::SIGKILL);
                    }
                    let _ = tx.send(Event::Exited(status));
                })?;
            Ok(Self {
                pid,
                group,
                events,
                status: None,
            })
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
                Event::Exited(status) => {
                    let status = status?;
                    self.status = Some(status);
                    Ok(Wake::Exited(status))
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
                if let Event::Exited(status) = self.events.recv().map_err(|_| vanished())? {
                    self.status = Some(status?);
                }
            }
        }

        pub(super) fn signal(&self, signal: Signal) -> io::Result<()> {
            self.send(signal.to_nix())
        }

        pub(super) fn resume(&self) -> io::Result<()> {
            self.send(signal::Signal::SIGCONT)
        }

        fn send(&self, signal: signal::Signal) -> io::Result<()> {
            if self.group {
                return signal_group(self.pid, signal);
            }
            // A reaped pid may already name another process: never signal it.
            if self.status.is_some() {
                return Ok(());
            }
            match kill(self.pid, signal) {
                Ok(()) | Err(Errno::ESRCH) => Ok(()),
                Err(errno) => Err(errno.into()),
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

    pub(super) struct Leader {
        child: Child,
        events: mpsc::Receiver<Event>,
    }

    impl Leader {
        pub(super) fn start(
            child: Child,
            _group: bool,
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
    }
}

#[cfg(test)]
mod tests {
    use super::tail;

    #[test]
    fn tail_keeps_the_last_three_lines() {
        assert_eq!(tail(b""), "");
        assert_eq!(tail(b"one\n\ntwo\r\nthree\nfour\n"), "two; three; four");
        let long = "x".repeat(1000);
        let cut = tail(long.as_bytes());
        assert!(cut.starts_with("...") && cut.len() == 403, "{cut}");
        let wide = "é".repeat(300);
        assert!(tail(wide.as_bytes()).ends_with('é'));
    }
}
