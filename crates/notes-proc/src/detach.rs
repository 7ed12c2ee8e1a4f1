//! `spawn_detached`: start a process that runs on in parallel, as the notes'
//! `subprocess.Popen(cmd, creationflags=CREATE_NEW_CONSOLE)` does.

use std::process::{Child, Command, Stdio};

use crate::command::{command_line, spawn_error};
use crate::{Error, Result, Status};

/// A process started by [`spawn_detached`]. Dropping it neither waits for nor kills the
/// process; [`wait`](Self::wait) or [`try_wait`](Self::try_wait) reap it (a process that is
/// never waited for stays a zombie until this program exits).
#[derive(Debug)]
pub struct Detached {
    child: Child,
    command: String,
}

impl Detached {
    /// The process id. On Unix it is also the id of its session and process group.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How it ended, if it has; never blocks.
    ///
    /// # Errors
    /// [`Error::Io`] when the operating system cannot tell.
    pub fn try_wait(&mut self) -> Result<Option<Status>> {
        self.child
            .try_wait()
            .map(|status| status.map(Status::from_std))
            .map_err(|source| self.io("checking on it", source))
    }

    /// Waits for it to end.
    ///
    /// # Errors
    /// [`Error::Io`] when the operating system cannot wait.
    pub fn wait(&mut self) -> Result<Status> {
        self.child
            .wait()
            .map(Status::from_std)
            .map_err(|source| self.io("waiting for it", source))
    }

    /// Kills it with everything in its process group (Unix; on Windows the process itself),
    /// then reaps it.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be signalled or waited for.
    pub fn kill(&mut self) -> Result<Status> {
        #[cfg(unix)]
        {
            if self.child.try_wait().ok().flatten().is_none() {
                let pgid =
                    nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(i32::MAX));
                crate::run::kill_group(pgid)
                    .map_err(|source| self.io("killing its process group", source))?;
            }
        }
        #[cfg(not(unix))]
        {
            // InvalidInput means it has already exited, which is what we want.
            if let Err(source) = self.child.kill()
                && source.kind() != std::io::ErrorKind::InvalidInput
            {
                return Err(self.io("killing it", source));
            }
        }
        self.wait()
    }

    fn io(&self, action: &'static str, source: std::io::Error) -> Error {
        Error::Io {
            command: self.command.clone(),
            action,
            source,
        }
    }
}

/// Starts `cmd` so that it runs on by itself, and returns at once.
///
/// On Unix the process leads a new session (`setsid`): it has no controlling terminal, so
/// Ctrl-C or closing the terminal does not reach it, and killing this program's process group
/// leaves it alone. On Windows it gets its own console window (`CREATE_NEW_CONSOLE`), as in
/// the notes.
///
/// Its standard streams are the three given here, whatever `cmd` says: a detached process
/// that inherited this program's output would hold it open (a `$(...)` capture of this
/// program would wait for it to end). Give it `Stdio::null()`, a file, or `Stdio::inherit()`
/// when sharing this program's streams is what you want.
///
/// No other descriptor of this program reaches it, as with Python's `Popen(close_fds=True)`:
/// on Unix every descriptor from 3 up is closed when it starts (a pipe that this program
/// inherited, `3>&1` from a shell say, would otherwise be held open by the detached process
/// for as long as it runs). On Linux this is `close_range(3, ~0, CLOSE_RANGE_CLOEXEC)` (Linux
/// 5.11), elsewhere or on older kernels `FD_CLOEXEC` set on each descriptor up to the
/// descriptor limit; so they close at `exec`, and std still learns why an `exec` failed.
///
/// # Errors
/// [`Error::NotFound`] for a missing program, [`Error::Spawn`] for other start failures,
/// [`Error::EmptyCommand`] for an empty program name.
///
/// ```
/// # #[cfg(unix)] {
/// use std::process::Command;
/// use std::process::Stdio;
/// let mut child = notes_proc::spawn_detached(
///     Command::new("sh").args(["-c", "exit 7"]),
///     Stdio::null(),
///     Stdio::null(),
///     Stdio::null(),
/// )?;
/// assert!(child.pid() > 0);
/// assert_eq!(child.wait()?, notes_proc::Status::Code(7));
/// # }
/// # Ok::<(), notes_proc::Error>(())
/// ```
#[tracing::instrument(level = "debug", skip_all)]
pub fn spawn_detached(
    cmd: &mut Command,
    stdin: Stdio,
    stdout: Stdio,
    stderr: Stdio,
) -> Result<Detached> {
    if cmd.get_program().is_empty() {
        return Err(Error::EmptyCommand);
    }
    cmd.stdin(stdin).stdout(stdout).stderr(stderr);
    let command = command_line(cmd);
    new_session(cmd).map_err(|source| Error::Spawn {
        command: command.clone(),
        source,
    })?;
    close_other_fds(cmd);
    let child = cmd
        .spawn()
        .map_err(|source| spawn_error(cmd, &command, source))?;
    Ok(Detached { child, command })
}

#[cfg(unix)]
fn new_session(cmd: &mut Command) -> std::io::Result<()> {
    use process_wrap::std::{CommandWrap, CommandWrapper, ProcessSession};
    // process-wrap's `ProcessSession` installs the `setsid` pre-exec hook (the one piece of
    // `unsafe` this needs) on the command it is given; the `CommandWrap` is only the context
    // its hook signature asks for.
    let context = CommandWrap::from(Command::new(cmd.get_program()));
    ProcessSession.pre_spawn(cmd, &context)
}

/// Makes every descriptor from 3 up close when `cmd` starts (see [`spawn_detached`]).
#[cfg(unix)]
fn close_other_fds(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // Read before the fork: the hook must not allocate or fail on a missing value.
    // SAFETY: sysconf takes a constant and returns a number; no memory is passed.
    #[allow(unsafe_code)]
    let open_max = unsafe { nix::libc::sysconf(nix::libc::_SC_OPEN_MAX) };
    let limit = nix::libc::c_int::try_from(open_max.clamp(1024, 1 << 20)).unwrap_or(1 << 20);
    // SAFETY: the hook runs in the forked child before exec and makes only the
    // async-signal-safe `close_range` and `fcntl` system calls on the child's own descriptor
    // table; it allocates nothing and touches no memory of the parent.
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(move || {
            #[cfg(target_os = "linux")]
            {
                const CLOSE_RANGE_CLOEXEC: nix::libc::c_uint = 1 << 2;
                if nix::libc::syscall(
                    nix::libc::SYS_close_range,
                    3 as nix::libc::c_uint,
                    nix::libc::c_uint::MAX,
                    CLOSE_RANGE_CLOEXEC,
                ) == 0
                {
                    return Ok(());
                }
            }
            for fd in 3..limit {
                let flags = nix::libc::fcntl(fd, nix::libc::F_GETFD);
                if flags >= 0 && flags & nix::libc::FD_CLOEXEC == 0 {
                    nix::libc::fcntl(fd, nix::libc::F_SETFD, flags | nix::libc::FD_CLOEXEC);
                }
            }
            Ok(())
        });
    }
}

#[cfg(not(unix))]
fn close_other_fds(_cmd: &mut Command) {}

#[cfg(not(unix))]
fn new_session(cmd: &mut Command) -> std::io::Result<()> {
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        const CREATE_NEW_CONSOLE: u32 = 0x0000_0010;
        cmd.creation_flags(CREATE_NEW_CONSOLE);
    }
    #[cfg(not(windows))]
    let _ = cmd;
    Ok(())
}
