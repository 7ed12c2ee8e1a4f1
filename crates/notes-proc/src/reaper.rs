//! The subreaper helper (Linux): a command run with a limit runs under this executable
//! started again, which makes itself a child subreaper so that no descendant can escape it,
//! and stops the whole tree when asked to, when its parent dies, or (with `kill_leftovers`)
//! when the command exits.
//!
//! The protocol with the parent: the helper's argv is the command's; `NOTES_PROC_REAPER`
//! holds the parent's pid and the options; fd 3 is a pipe on which the helper reports
//! [`MESSAGE`]-byte messages: `R` + the command's pid once it runs, `E` + an errno when it
//! cannot be started, `S` + its raw wait status when it ended. Signals from the parent:
//! [`KILL_TREE`] means "kill everything and exit" (it is the parent-death signal too), any
//! other is passed on to every descendant, followed by `SIGCONT`.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::libc;
use nix::sys::signal::{SigSet, Signal as Sig, kill, killpg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
use nix::unistd::{Pid, getpid, getppid};

/// The environment variable that makes [`init`](crate::init) serve as the helper.
const ENV: &str = "NOTES_PROC_REAPER";
/// The helper's end of the report pipe.
const REPORT_FD: i32 = 3;
/// The length of one report message: a tag byte and an `i32`.
pub(crate) const MESSAGE: usize = 5;
/// "Kill the whole tree and exit": `SIGKILL` cannot be caught, so it has a stand-in.
pub(crate) const KILL_TREE: Sig = Sig::SIGPWR;
/// "Pass `SIGSTOP` on": `SIGSTOP` cannot be caught either (it would stop the helper).
pub(crate) const STOP_TREE: Sig = Sig::SIGSTKFLT;
/// How long the helper keeps killing a tree whose processes do not die (stuck in the kernel).
const KILL_FOR: Duration = Duration::from_secs(10);

/// Whether a command can run under the helper: on Linux, in a program that called
/// [`init`](crate::init) before starting any thread (so that starting it again reaches
/// [`serve_if_asked`] first, with one thread to take the signals), with /proc.
pub(crate) fn available() -> bool {
    crate::startup::initialized_in_main() && std::path::Path::new("/proc/self/exe").exists()
}

/// The command's raw wait status from an `S` message.
pub(crate) fn ended(message: &[u8; MESSAGE]) -> Option<i32> {
    (message[0] == b'S')
        .then(|| i32::from_le_bytes([message[1], message[2], message[3], message[4]]))
}

fn message(tag: u8, value: i32) -> [u8; MESSAGE] {
    let [a, b, c, d] = value.to_le_bytes();
    [tag, a, b, c, d]
}

/// Starts `cmd` under the helper, with piped outputs when `piped` (and empty stdin unless
/// `inherit_stdin`), else with this process's streams; returns once the command runs (or with its start error), with the
/// command's pid.
pub(crate) fn spawn(
    cmd: &Command,
    kill_leftovers: bool,
    piped: bool,
    inherit_stdin: bool,
) -> io::Result<(Child, io::PipeReader, i32)> {
    let (mut report, writer) = io::pipe()?;
    let mut helper = Command::new("/proc/self/exe");
    // Named for what it is in `ps`.
    helper
        .arg0("notes-proc-reaper")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => helper.env(key, value),
            None => helper.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        helper.current_dir(dir);
    }
    helper.env(ENV, format!("{} {}", getpid(), u8::from(kill_leftovers)));
    if piped {
        helper.stdout(Stdio::piped()).stderr(Stdio::piped());
        if !inherit_stdin {
            helper.stdin(Stdio::null());
        }
    }
    // Its own group, as a command run without the helper: Ctrl-C at the terminal reaches
    // this process only, which passes it on (`Forward`) if it wants to.
    helper.process_group(0);
    let fd = writer.as_raw_fd();
    // SAFETY: the hook runs in the forked child before exec and makes only the
    // async-signal-safe `dup2` and `fcntl` system calls on a descriptor it owns.
    #[allow(unsafe_code)]
    unsafe {
        helper.pre_exec(move || {
            let moved = if fd == REPORT_FD {
                // Already in place: only drop close-on-exec.
                libc::fcntl(fd, libc::F_SETFD, 0)
            } else {
                // dup2 clears close-on-exec on the copy.
                libc::dup2(fd, REPORT_FD)
            };
            if moved == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = helper.spawn()?;
    drop(helper);
    drop(writer);
    let mut pid = None;
    loop {
        let mut message = [0; MESSAGE];
        let read = report.read_exact(&mut message);
        let value = i32::from_le_bytes([message[1], message[2], message[3], message[4]]);
        match (read, message[0], pid) {
            // The command announces itself (before exec), then the helper says it runs.
            (Ok(()), b'P', _) => pid = Some(value),
            (Ok(()), b'R', Some(pid)) => return Ok((child, report, pid)),
            (Ok(()), b'E', _) => {
                let _ = child.wait();
                return Err(if value > 0 {
                    io::Error::from_raw_os_error(value)
                } else {
                    io::Error::other("the helper could not start the command")
                });
            }
            // The helper died once the command was started (killed by the command, say):
            // the command runs (or ran), and waiting for the helper tells how it ended.
            (Err(_), _, Some(pid)) => return Ok((child, report, pid)),
            (read, _, _) => {
                let _ = child.kill();
                let status = child.wait();
                return Err(io::Error::other(format!(
                    "the helper process ended before starting the command ({}{})",
                    read.err().map(|e| e.to_string()).unwrap_or_default(),
                    status.map(|s| format!(", {s}")).unwrap_or_default()
                )));
            }
        }
    }
}

/// When this process was started as the helper, serves as it and exits; else returns.
pub(crate) fn serve_if_asked() {
    let Some(spec) = std::env::var_os(ENV) else {
        return;
    };
    // The helper's own failures (the command's are reported on the pipe) exit 125, as
    // GNU timeout's do; the parent reports them from the missing message.
    let code = if serve(&spec).is_ok() { 0 } else { 125 };
    // The helper never runs the program's own `main`: it ends here (procspawn's children
    // end the same way).
    #[allow(clippy::exit)]
    std::process::exit(code);
}

fn serve(spec: &std::ffi::OsStr) -> io::Result<()> {
    let spec = spec.to_string_lossy();
    let mut fields = spec.split(' ');
    let parent: i32 = fields
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| io::Error::other("bad NOTES_PROC_REAPER"))?;
    let kill_leftovers = fields.next() == Some("1");

    // SAFETY: the parent put the report pipe's write end at fd 3 for this process (the
    // environment variable says so) and nothing else in it owns that descriptor.
    #[allow(unsafe_code)]
    let inherited = unsafe { OwnedFd::from_raw_fd(REPORT_FD) };
    // A close-on-exec copy, so that the command does not inherit it; fd 3 is closed.
    let mut report = std::fs::File::from(inherited.try_clone()?);
    drop(inherited);

    // Every signal but KILL and STOP (which cannot be blocked) is blocked and waited for:
    // SIGCHLD, KILL_TREE and STOP_TREE are ours, any other is passed on to the tree (any
    // signal GNU timeout -s takes; real-time ones are not sent here).
    let mut mask = SigSet::empty();
    for signal in Sig::iterator() {
        if signal != Sig::SIGKILL && signal != Sig::SIGSTOP {
            mask.add(signal);
        }
    }
    mask.thread_block()?;
    nix::sys::prctl::set_child_subreaper(true)?;
    nix::sys::prctl::set_pdeathsig(KILL_TREE)?;
    if getppid() != Pid::from_raw(parent) {
        // The parent died before the prctl: nobody wants the command any more.
        return Ok(());
    }

    let mut args = std::env::args_os().skip(1);
    let program = args.next().unwrap_or_default();
    let mut cmd = Command::new(program);
    // The command leads a process group of its own (one `killpg` reaches all of it that
    // stayed in it); the helper is not in it.
    cmd.args(args).env_remove(ENV).process_group(0);
    let me = getpid();
    let report_fd = report.as_raw_fd();
    // SAFETY: the hook runs in the forked child before exec and makes only the
    // async-signal-safe `sigprocmask`, `prctl`, `getppid`, `getpid` and `write` system
    // calls; it allocates nothing (the message is on the stack).
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(move || {
            // The parent learns the command's pid before the command can do anything (kill
            // the helper, say). A pipe write this short is atomic.
            let announce = message(b'P', getpid().as_raw());
            libc::write(report_fd, announce.as_ptr().cast(), MESSAGE);
            // The mask survives fork and exec: the command gets its signals again.
            SigSet::empty().thread_set_mask()?;
            // If the helper is killed with SIGKILL (no cleanup), the command still dies.
            nix::sys::prctl::set_pdeathsig(Sig::SIGKILL)?;
            if getppid() != me {
                return Err(io::Error::from_raw_os_error(Errno::ESRCH as i32));
            }
            Ok(())
        });
    }
    let child = match cmd.spawn() {
        Ok(child) => child,
        Err(err) => {
            report.write_all(&message(b'E', err.raw_os_error().unwrap_or(0)))?;
            return Ok(());
        }
    };
    let leader = Pid::from_raw(i32::try_from(child.id()).map_err(io::Error::other)?);
    // Reaped with waitpid below, not through `Child`.
    drop(child);
    let mut tree = Tree {
        me,
        leader,
        status: None,
    };
    // From here on the command runs: whatever goes wrong, the tree is killed before the
    // helper gives up. A parent that is gone already (the write fails) wants it killed too.
    if report.write_all(&message(b'R', leader.as_raw())).is_err() {
        tree.kill_all();
        return Ok(());
    }
    let mut stopping = false;
    loop {
        let Ok(signal) = mask.wait() else {
            tree.kill_all();
            break;
        };
        if signal == Sig::SIGCHLD {
            // Kill before reaping the leader: while it is a zombie its group id is ours.
            if (stopping || kill_leftovers) && tree.leader_ended() {
                tree.kill_all();
                break;
            }
            tree.reap();
            if tree.status.is_some() {
                if stopping || kill_leftovers {
                    tree.kill_all();
                }
                break;
            }
        } else if signal == KILL_TREE {
            tree.kill_all();
            break;
        } else {
            let signal = if signal == STOP_TREE {
                Sig::SIGSTOP
            } else {
                signal
            };
            stopping = true;
            // The group at once (while the leader is unreaped its id is ours), then
            // whatever left it.
            if tree.status.is_none() {
                let _ = killpg(tree.leader, signal);
                let _ = killpg(tree.leader, Sig::SIGCONT);
            }
            tree.signal_all(&[signal, Sig::SIGCONT], true);
        }
    }
    // Killed and reaped without a status (cannot happen: it is our child) reads as SIGKILL.
    let status = tree.status.unwrap_or(libc::SIGKILL);
    // The parent may be gone: then nobody needs the status.
    let _ = report.write_all(&message(b'S', status));
    Ok(())
}

/// The helper's view of the command's tree.
struct Tree {
    me: Pid,
    leader: Pid,
    /// The leader's raw wait status, once reaped.
    status: Option<i32>,
}

impl Tree {
    /// Reaps every child that has ended (orphans re-parented to us included), keeping the
    /// leader's status.
    fn reap(&mut self) {
        loop {
            match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => {
                    if pid == self.leader {
                        self.status = Some((code & 0xff) << 8);
                    }
                }
                Ok(WaitStatus::Signaled(pid, signal, core)) => {
                    if pid == self.leader {
                        self.status = Some(signal as i32 | if core { 0x80 } else { 0 });
                    }
                }
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
                Ok(_) | Err(Errno::EINTR) => {}
                Err(_) => return,
            }
        }
    }

    /// Whether the leader has ended (it is left a zombie, not reaped).
    fn leader_ended(&self) -> bool {
        self.status.is_none()
            && waitid(
                Id::Pid(self.leader),
                WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT,
            )
            .is_ok_and(|status| status != WaitStatus::StillAlive)
    }

    /// Whether any child is left, alive or zombie: with none, no descendant is left either
    /// (every descendant has a chain of living parents up to us, or was re-parented to us).
    fn has_children(&self) -> bool {
        !matches!(
            waitid(
                Id::All,
                WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT,
            ),
            Err(Errno::ECHILD)
        )
    }

    /// Sends each of `signals` to every living descendant: one look through /proc (about
    /// 5 ms on a loaded machine with 150 processes, so it is not done more than needed).
    /// With `skip_group`, the processes still in the leader's group are left out (they
    /// got the signals from `killpg` already: a trap must not run twice).
    fn signal_all(&self, signals: &[Sig], skip_group: bool) {
        let skip = skip_group.then_some(self.leader);
        self.signal_found(&descendants(self.me, false), signals, skip);
    }

    /// Sends each of `signals` to every living process in `tree` (but those in group `skip`).
    fn signal_found(&self, tree: &[Proc], signals: &[Sig], skip: Option<Pid>) {
        for proc in tree {
            if !proc.zombie && Some(proc.pgid) != skip {
                for &signal in signals {
                    signal_if_ours(proc.pid, signal, self.me, tree);
                }
            }
        }
    }

    /// `SIGKILL` to the whole tree, again as needed, reaping, until we have no child left
    /// (so no descendant) and the leader is reaped, or [`KILL_FOR`] has passed.
    ///
    /// First to the leader's process group, which it leads (one `killpg`, and the group id
    /// cannot be reused while the unreaped leader holds it): that is the whole tree unless
    /// something left the group. Then, whenever a child is still there and none has ended
    /// for a while, a look through /proc finds and kills the rest (through pidfds); what a
    /// killed process forked just before it died is re-parented to us, so it is found by the
    /// next look.
    fn kill_all(&mut self) {
        let start = Instant::now();
        if self.status.is_none() {
            let _ = killpg(self.leader, Sig::SIGKILL);
        }
        let mut patience = Duration::from_millis(1);
        let mut looked = false;
        loop {
            self.reap();
            if self.status.is_some() && !self.has_children() {
                return;
            }
            if start.elapsed() > KILL_FOR {
                return;
            }
            if !wait_for_child(patience) {
                // Nothing ended for a while and something is still there: find it. The
                // first look reads only the processes with pids above ours (pids are handed
                // out in increasing order, so those are the ones started after us, unless the
                // pids wrapped around); the next ones read them all.
                self.signal_found(&descendants(self.me, !looked), &[Sig::SIGKILL], None);
                looked = true;
                patience = (patience * 2).min(Duration::from_millis(50));
            }
        }
    }
}

/// Waits for `SIGCHLD` (blocked in the helper) for at most `timeout`; true if it came.
fn wait_for_child(timeout: Duration) -> bool {
    let mut set = SigSet::empty();
    set.add(Sig::SIGCHLD);
    let timeout = libc::timespec {
        tv_sec: 0,
        tv_nsec: libc::c_long::try_from(timeout.as_nanos()).unwrap_or(1_000_000),
    };
    // SAFETY: sigtimedwait reads the signal set and the timeout, both valid for the call, and
    // is given no siginfo buffer (null).
    #[allow(unsafe_code)]
    let got = unsafe { libc::sigtimedwait(set.as_ref(), std::ptr::null_mut(), &timeout) };
    got == Sig::SIGCHLD as i32
}

/// One process, as /proc/PID/stat shows it.
#[derive(Debug, Clone, Copy)]
struct Proc {
    pid: Pid,
    ppid: Pid,
    pgid: Pid,
    zombie: bool,
}

/// Every process under `root` in /proc; with `newer`, only among the processes whose pid is
/// above `root`'s.
fn descendants(root: Pid, newer: bool) -> Vec<Proc> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut all = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        if newer && pid <= root.as_raw() {
            continue;
        }
        all.extend(stat(pid));
    }
    let mut found: Vec<Proc> = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for proc in &all {
            if proc.ppid == parent && proc.pid != root && !found.iter().any(|p| p.pid == proc.pid) {
                found.push(*proc);
                frontier.push(proc.pid);
            }
        }
    }
    found
}

/// `pid`'s parent, group and zombie state, from /proc/PID/stat.
fn stat(pid: i32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid pgrp ...": the name may hold anything, so split after its last
    // ')'.
    let mut rest = stat.rsplit_once(')')?.1.split_whitespace();
    let state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    let pgid = rest.next()?.parse().ok()?;
    Some(Proc {
        pid: Pid::from_raw(pid),
        ppid: Pid::from_raw(ppid),
        pgid: Pid::from_raw(pgid),
        zombie: state == "Z" || state == "X",
    })
}

/// Signals `pid` if it is still the process found in `tree`: through a pidfd, opened first
/// and checked after (its parent still in the tree), so that a pid that was reused meanwhile
/// is never signalled. Without pidfds (Linux before 5.3) a plain `kill`.
fn signal_if_ours(pid: Pid, signal: Sig, me: Pid, tree: &[Proc]) -> bool {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1; no memory
    // is passed.
    #[allow(unsafe_code)]
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return Errno::last() == Errno::ENOSYS && kill(pid, signal).is_ok();
    }
    let Ok(raw) = i32::try_from(fd) else {
        return false;
    };
    // SAFETY: pidfd_open just returned this descriptor, owned by no one else.
    #[allow(unsafe_code)]
    let pidfd = unsafe { OwnedFd::from_raw_fd(raw) };
    let ours = stat(pid.as_raw())
        .is_some_and(|now| now.ppid == me || tree.iter().any(|p| p.pid == now.ppid));
    if !ours {
        return false;
    }
    // SAFETY: pidfd_send_signal with a valid pidfd, a signal number, no siginfo (null) and no
    // flags; it reads no memory of ours.
    #[allow(unsafe_code)]
    let sent = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal as libc::c_int,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    sent == 0
}
