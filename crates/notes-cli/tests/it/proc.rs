//! `notes run`, `notes timeout`, `notes spawn` and the tour's process sections.
#![cfg(unix)]

use std::process::Command;
use std::time::{Duration, Instant};

fn notes(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run notes")
}

#[test]
fn timeout_exits_124_on_time_and_leaves_no_process_behind() {
    let start = Instant::now();
    let out = notes(&[
        "timeout",
        "200ms",
        "--",
        "sh",
        "-c",
        "sleep 30 & echo $$ $!; sleep 30",
    ]);
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(124));
    // Generous: on a loaded CI machine starting `notes` and `sh` alone can take a while.
    assert!(took < Duration::from_secs(5), "{took:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    for pid in stdout.split_whitespace() {
        let pid: i32 = pid.parse().unwrap();
        // Both got SIGTERM then SIGKILL; a killed process may need a moment to finish exiting
        // (then it is gone, or a zombie of init), so poll briefly before calling it a survivor.
        let alive = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                !stat
                    .rsplit_once(')')
                    .unwrap()
                    .1
                    .trim_start()
                    .starts_with('Z')
            })
        };
        let deadline = Instant::now() + Duration::from_secs(2);
        while alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!alive(), "pid {pid} survived");
    }
}

#[test]
fn timeout_passes_on_the_status_of_a_command_that_ends_in_time() {
    assert_eq!(
        notes(&["timeout", "5s", "sh", "-c", "exit 3"])
            .status
            .code(),
        Some(3)
    );
    assert_eq!(
        notes(&["timeout", "5s", "sh", "-c", "kill -9 $$"])
            .status
            .code(),
        Some(137)
    );
    let out = notes(&["timeout", "5s", "notes-no-such-program"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("error: cannot run \"notes-no-such-program\"")
    );
}

#[test]
fn zero_durations_disable_their_timeout_as_in_gnu_timeout() {
    // `timeout 0`: no time limit.
    let start = Instant::now();
    let out = notes(&["timeout", "0", "--", "sh", "-c", "sleep 0.3; exit 5"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(start.elapsed() >= Duration::from_millis(300));
    // `-k 0`: TERM at the deadline, and no KILL after it. The command ignores TERM, so it
    // runs to its end; the deadline passed, so the status is still 124.
    let start = Instant::now();
    let out = notes(&[
        "timeout",
        "-k",
        "0",
        "100ms",
        "--",
        "sh",
        "-c",
        "trap '' TERM; sleep 1",
    ]);
    assert_eq!(out.status.code(), Some(124));
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "KILLed early"
    );
}

#[test]
fn timeouts_own_failures_exit_125_as_in_gnu_timeout() {
    for args in [
        &["timeout", "xyz", "--", "true"][..],
        &["timeout", "-s", "BOGUS", "1s", "--", "true"],
        &["timeout", "1s"],
        &["timeout"],
    ] {
        let out = notes(args);
        assert_eq!(out.status.code(), Some(125), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
    }
    // Help is not a failure.
    assert_eq!(notes(&["timeout", "--help"]).status.code(), Some(0));
}

#[test]
fn an_unknown_signal_is_named_with_the_accepted_ones() {
    let out = notes(&["timeout", "-s", "BOGUS", "1s", "--", "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: invalid value 'BOGUS' for '--signal <SIG>': unknown signal \"BOGUS\": expected a signal's name (HUP, INT, QUIT, KILL, USR1, USR2, ALRM, TERM, STOP, CONT, ...; with or without SIG) or, on Unix, its number\n\nFor more information, try '--help'.\n"
    );
}

#[test]
fn spawn_prints_the_pid_of_a_process_in_its_own_session() {
    let out = notes(&["--json", "spawn", "--", "sleep", "0.1"]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["pid"].as_u64().is_some_and(|pid| pid > 0), "{json}");
}

#[test]
fn the_tour_replays_call_func_with_timeout() {
    let out = notes(&["tour", "call-with-timeout"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let body: Vec<&str> = stdout.lines().skip(2).collect();
    assert_eq!(body, ["0", "1", "42", "", "0", "1", "2", "3", "None"]);
}

/// The pids of `parent`'s children, from /proc.
#[cfg(target_os = "linux")]
fn children(parent: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...".
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(parent) {
            found.extend(
                entry
                    .file_name()
                    .to_str()
                    .and_then(|p| p.parse::<u32>().ok()),
            );
        }
    }
    found
}

/// Starts `notes timeout LIMIT -- sleep 30`, sends it `signal` once the sleep runs, and checks
/// that it ends at once with 128 + the signal's number and that no sleep survives.
#[cfg(target_os = "linux")]
fn check_signal_reaches_the_command(limit: &str, signal: &str, code: i32) {
    let mut notes = Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(["timeout", limit, "--", "sleep", "30"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let sleep = loop {
        if let Some(&pid) = children(notes.id()).first() {
            break pid;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "sleep never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    // Let the sleep exec (it is a fork of notes until then) and notes install its handlers.
    std::thread::sleep(Duration::from_millis(200));
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &notes.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = loop {
        if let Some(status) = notes.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(5) {
            notes.kill().unwrap();
            panic!("notes timeout did not pass SIG{signal} on to the command");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(code), "SIG{signal}");
    assert!(
        !std::path::Path::new(&format!("/proc/{sleep}")).exists(),
        "sleep {sleep} survived SIG{signal}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn signals_sent_to_timeout_reach_the_command() {
    check_signal_reaches_the_command("10s", "TERM", 143);
    check_signal_reaches_the_command("10s", "INT", 130);
    check_signal_reaches_the_command("10s", "HUP", 129);
    // Without a time limit too.
    check_signal_reaches_the_command("0", "TERM", 143);
}

#[cfg(target_os = "linux")]
#[test]
fn foreground_keeps_the_command_in_the_callers_process_group() {
    let pgid = |stat: &str| -> String {
        stat.rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .nth(2)
            .unwrap()
            .to_owned()
    };
    let ours = pgid(&std::fs::read_to_string("/proc/self/stat").unwrap());
    let script = "cat /proc/$$/stat";
    let out = notes(&["timeout", "--foreground", "5s", "--", "sh", "-c", script]);
    assert!(out.status.success());
    assert_eq!(pgid(&String::from_utf8(out.stdout).unwrap()), ours);
    // Without it the command is in a group of its own (the helper's: it cannot read the
    // terminal).
    let out = notes(&["timeout", "5s", "--", "sh", "-c", "cat /proc/$$/stat"]);
    let stat = String::from_utf8(out.stdout).unwrap();
    assert_ne!(pgid(&stat), ours);
}

#[test]
fn a_missing_program_is_named_once() {
    for args in [
        &["run", "--", "notes-no-such-program"][..],
        &["timeout", "1s", "notes-no-such-program"],
    ] {
        let out = notes(args);
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "error: cannot run \"notes-no-such-program\": program \"notes-no-such-program\" not found\n"
        );
    }
}

/// A file in the temporary directory for one test, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("notes-cli-proc-{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }

    /// Waits (20 s at most: a loaded machine) until `ready` accepts the file's text.
    fn wait_for(&self, ready: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let text = std::fs::read_to_string(&self.0).unwrap_or_default();
            if ready(&text) || start.elapsed() > Duration::from_secs(20) {
                return text;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The pids written to the file, one a line, once there are `count` of them.
    fn pids(&self, count: usize) -> Vec<u32> {
        let text = self.wait_for(|text| text.lines().count() >= count);
        let pids: Vec<u32> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
        assert_eq!(pids.len(), count, "{text:?}");
        pids
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(target_os = "linux")]
/// Kills `pid` (a process this test started, through a shell) if it is still there.
fn kill_ours(pid: u32) {
    let _ = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status();
}

#[cfg(target_os = "linux")]
/// A marker for the environment of the processes one test starts: unlike a pid (this machine
/// has pid_max 32768, and other tests fork thousands of processes), it cannot name another
/// process.
fn mark(test: &str) -> (String, String) {
    (
        format!("NOTES_TEST_{}", test.to_uppercase().replace('-', "_")),
        std::process::id().to_string(),
    )
}

#[cfg(target_os = "linux")]
/// `notes ARGS` with the marker in its (and so its command's) environment.
fn notes_marked(args: &[&str], (key, value): &(String, String)) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(args)
        .env("NO_COLOR", "1")
        .env(key, value)
        .output()
        .expect("run notes")
}

#[cfg(target_os = "linux")]
/// Checks that no process with the marker is alive (allowing killed ones 5 s to finish
/// dying); kills the survivors (ours: they have the marker) before failing.
fn assert_none_marked((key, value): &(String, String), what: &str) {
    let mark = format!("{key}={value}");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut left = marked(&mark);
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        left = marked(&mark);
    }
    for &pid in &left {
        kill_ours(pid);
    }
    assert!(left.is_empty(), "{what}: {left:?} survived");
}

/// Issue 18, defect 1: a background job writes on after the command exits, under `notes
/// timeout` and `notes run`, as under GNU timeout (it was SIGKILLed with the group).
#[test]
fn background_jobs_run_on_after_a_normal_exit() {
    for subcommand in [&["timeout", "10"][..], &["run", "--"]] {
        let log = TempFile::new(&format!("bg-{}", subcommand[0]));
        let script = format!(
            "(for i in 1 2 3 4 5 6 7 8 9 10; do echo $i >> {0}; sleep 0.03; done; echo done >> {0}) >/dev/null 2>&1 & sleep 0.05",
            log.path()
        );
        let mut args = subcommand.to_vec();
        args.extend(["sh", "-c", &script]);
        let out = notes(&args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        let text = log.wait_for(|text| text.contains("done"));
        assert_eq!(
            text.lines().count(),
            11,
            "{args:?} killed the job: {text:?}"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn kill_leftovers_kills_what_the_command_leaves_running() {
    for subcommand in [
        &["timeout", "--kill-leftovers", "10"][..],
        &["run", "--kill-leftovers", "--"],
    ] {
        let pids = TempFile::new(&format!("leftover-{}", subcommand[0]));
        let script = format!(
            "sleep 30 >/dev/null 2>&1 & echo $! >> {0}; setsid sh -c 'echo $$ >> {0}; exec sleep 30' >/dev/null 2>&1 &
             for i in $(seq 2000); do [ $(wc -l < {0}) -ge 2 ] && break; sleep 0.01; done",
            pids.path()
        );
        let mut args = subcommand.to_vec();
        args.extend(["sh", "-c", &script]);
        let mark = mark(&format!("leftover-{}", subcommand[0]));
        let out = notes_marked(&args, &mark);
        assert!(out.status.success(), "{args:?}: {out:?}");
        pids.pids(2);
        assert_none_marked(&mark, &format!("{args:?}"));
    }
}

#[cfg(target_os = "linux")]
/// Issue 18, defect 2: descendants that left the process group (setsid), at any depth, are
/// killed at the deadline too, TERM-ignoring ones at --kill-after.
#[test]
fn the_deadline_kills_descendants_that_left_the_process_group() {
    let pids = TempFile::new("setsid");
    let script = format!(
        "setsid sh -c 'echo $$ >> {0}; exec sleep 301' >/dev/null 2>&1 &
         (setsid sh -c 'trap \"\" TERM; echo $$ >> {0}; while :; do sleep 1; done' >/dev/null 2>&1 &) &
         (sh -c 'sleep 302 >/dev/null 2>&1 & echo $! >> {0}' &)
         sleep 300",
        pids.path()
    );
    let start = Instant::now();
    let mark = mark("setsid");
    let out = notes_marked(&["timeout", "-k", "200ms", "1", "sh", "-c", &script], &mark);
    assert_eq!(out.status.code(), Some(124), "{out:?}");
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    pids.pids(3);
    assert_none_marked(&mark, "setsid escapes");
}

/// Issue 18, defect 3: `kill -9` of `notes timeout` takes its command (and what the command
/// started, in its group or not) down with it.
#[cfg(target_os = "linux")]
#[test]
fn killing_timeout_with_sigkill_kills_its_command() {
    for subcommand in [&["timeout", "100"][..], &["run", "--"]] {
        let pids = TempFile::new(&format!("kill9-{}", subcommand[0]));
        let script = format!(
            "setsid sh -c 'echo $$ >> {0}; exec sleep 303' >/dev/null 2>&1 & echo $$ >> {0}; exec sleep 304",
            pids.path()
        );
        let mut args = subcommand.to_vec();
        args.extend(["sh", "-c", &script]);
        let mark = mark(&format!("kill9-{}", subcommand[0]));
        let mut child = Command::new(env!("CARGO_BIN_EXE_notes"))
            .args(&args)
            .env(&mark.0, &mark.1)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        pids.pids(2);
        child.kill().unwrap();
        child.wait().unwrap();
        assert_none_marked(&mark, &format!("kill -9 of notes {args:?}"));
    }
}

/// Issue 18, defect 4: `notes run` passes the bytes on exactly (NUL and ESC included, no
/// newline added), on both streams.
#[test]
fn run_passes_output_on_byte_for_byte() {
    let out = notes(&["run", "--", "printf", "a\\0b\\033[31mx"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"a\0b\x1b[31mx");
    let out = notes(&[
        "run",
        "--keep-empty",
        "--",
        "sh",
        "-c",
        "printf 'a\\n\\n\\033[0m\\n'; printf 'e\\0\\033' >&2",
    ]);
    assert_eq!(out.stdout, b"a\n\n\x1b[0m\n");
    assert_eq!(out.stderr, b"e\0\x1b");
    // Without --keep-empty only the empty lines are left out.
    let out = notes(&[
        "run",
        "--",
        "sh",
        "-c",
        "printf '\\n\\na\\r\\n\\n\\nb\\n\\n'",
    ]);
    assert_eq!(out.stdout, b"a\r\nb\n");
}

#[test]
fn run_json_streams_the_lines_as_an_array() {
    let out = notes(&["--json", "run", "--", "printf", "a\\n\\nb\\r\\nc\\303\\251"]);
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(lines, ["a", "b", "cé"]);
    let out = notes(&[
        "--json",
        "run",
        "--keep-empty",
        "--",
        "printf",
        "a\\n\\nb\\n",
    ]);
    let lines: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(lines, ["a", "", "b"]);
    assert_eq!(notes(&["--json", "run", "--", "true"]).stdout, b"[]\n");
    let out = notes(&["--json", "run", "--", "printf", "ok\\377"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not UTF-8 (first bad byte at offset 2)"),
        "{out:?}"
    );
}

/// Issue 18, defect 4: memory does not grow with the output (it held all of it: 2.98 GB for
/// 500 MB). Measured as the peak RSS of `notes` by Python's `resource` module.
#[cfg(target_os = "linux")]
#[test]
fn run_streams_in_memory_independent_of_the_output_size() {
    let script = "import resource, subprocess, sys\n\
        subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n\
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
    let out = Command::new("python3")
        .args([
            "-c",
            script,
            env!("CARGO_BIN_EXE_notes"),
            "run",
            "--",
            "sh",
            "-c",
        ])
        .arg("yes abcdefghij | head -c 300000000")
        .output()
        .expect("python3");
    assert!(out.status.success(), "{out:?}");
    let peak_kb: u64 = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // 300 MB went through; notes' own footprint is a few MB (a debug build: more).
    assert!(peak_kb < 60_000, "peak RSS {peak_kb} kB");
}

/// `notes run … | head -1` ends quietly, and so does the command (SIGPIPE, as in a shell).
#[test]
fn run_into_a_closed_pipe_ends_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(["run", "--", "yes"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0; 4];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    assert_eq!(&first, b"y\ny\n");
    drop(stdout);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("notes run went on writing into a closed pipe");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{status:?} {stderr}");
    assert_eq!(stderr, "");
}

#[cfg(target_os = "linux")]
/// Issue 18, defect 5: `pid=$(notes spawn -- sleep 3)` returns at once (the detached child
/// held the capture pipe).
#[test]
fn a_captured_spawn_returns_at_once() {
    let start = Instant::now();
    let out = notes(&["spawn", "--", "sleep", "5"]);
    let took = start.elapsed();
    assert!(out.status.success(), "{out:?}");
    let pid: u32 = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let running = !gone_now(pid);
    kill_ours(pid);
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert!(running, "the spawned sleep is not running");
}

#[cfg(target_os = "linux")]
fn gone_now(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
        state.is_some_and(|s| s.starts_with('Z') || s.starts_with('X'))
    })
}

/// The pids of living processes whose environment holds `mark` (ours: the test set it).
#[cfg(target_os = "linux")]
fn marked(mark: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if environ.split(|&b| b == 0).any(|var| var == mark.as_bytes()) && !gone_now(pid) {
            found.push(pid);
        }
    }
    found
}

/// An attacker's command: a loop that keeps starting setsid'd, TERM-ignoring sleepers as
/// fast as it can, through double forks, when the deadline comes. None may survive.
#[cfg(target_os = "linux")]
#[test]
fn a_command_that_keeps_escaping_leaves_no_survivor() {
    let mark = mark("storm");
    let start = Instant::now();
    let out = notes_marked(
        &[
            "timeout",
            "-k",
            "100ms",
            "300ms",
            "sh",
            "-c",
            "while :; do (setsid sh -c 'trap \"\" TERM; exec sleep 300' >/dev/null 2>&1 &); done",
        ],
        &mark,
    );
    assert_eq!(out.status.code(), Some(124), "{out:?}");
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert_none_marked(&mark, "a command that keeps escaping");
}

/// A command that kills its helper with SIGKILL (no cleanup there): the command dies with it
/// (PR_SET_PDEATHSIG) and `notes timeout` kills what is left of its process group.
#[cfg(target_os = "linux")]
#[test]
fn a_command_that_kills_its_helper_still_dies_with_its_group() {
    let pids = TempFile::new("helper-killed");
    let script = format!(
        "sleep 305 >/dev/null 2>&1 & echo $! >> {0}; echo $$ >> {0}; kill -9 $PPID; exec sleep 306",
        pids.path()
    );
    let mark = mark("helper-killed");
    let out = notes_marked(&["timeout", "100", "sh", "-c", &script], &mark);
    assert_eq!(out.status.code(), Some(137), "{out:?}");
    pids.pids(2);
    assert_none_marked(&mark, "after the helper was killed");
}

/// Runs `sh -c script` under `notes` with `args` (before the `--`), its stdout a pipe that is
/// read to its end; returns that output and how long it took.
fn notes_into_pipe(args: &[&str], script: &str, stdin: &[u8]) -> (Vec<u8>, Duration) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(args)
        .args(["--", "sh", "-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut input, stdin).unwrap();
    drop(input);
    let mut stdout = Vec::new();
    std::io::Read::read_to_end(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    child.wait().unwrap();
    (stdout, start.elapsed())
}

/// Defect D3: `notes run` closed its end of the pipe 100 ms after the command exited, so a
/// background job that wrote later died of SIGPIPE (bg1..bg3 of 5 got out). Its output must
/// arrive, as under GNU timeout and `subprocess.run`, in every output mode.
#[test]
fn run_passes_on_what_background_jobs_write_after_the_command_exits() {
    let script = "(for i in 1 2 3 4 5; do echo bg$i; sleep .2; done) & echo fg; sleep .3";
    let all = "fg\nbg1\nbg2\nbg3\nbg4\nbg5\n";
    for mode in [&["run"][..], &["run", "--keep-empty"][..]] {
        let (out, _) = notes_into_pipe(mode, script, b"");
        let mut lines: Vec<&str> = std::str::from_utf8(&out).unwrap().lines().collect();
        lines.sort_unstable();
        let mut want: Vec<&str> = all.lines().collect();
        want.sort_unstable();
        assert_eq!(lines, want, "{mode:?}");
    }
    let (out, _) = notes_into_pipe(&["--json", "run"], script, b"");
    let mut lines: Vec<String> = serde_json::from_slice(&out).unwrap();
    lines.sort_unstable();
    assert_eq!(lines, ["bg1", "bg2", "bg3", "bg4", "bg5", "fg"]);
    // The job that writes late is not killed by SIGPIPE: it records its write's status.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sp.log");
    let script = format!(
        "(sleep 0.5; echo late; echo \"rc=$?\" >> '{}') & echo early",
        log.display()
    );
    let (out, _) = notes_into_pipe(&["run"], &script, b"");
    assert_eq!(out, b"early\nlate\n");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "rc=0\n");
}

/// Defect D5: `echo hi | notes run -- cat` printed nothing: the command got an empty stdin.
/// `subprocess.run` and `check_output` pass stdin on, and so does `notes run`.
#[test]
fn run_passes_its_standard_input_on() {
    for mode in [&["run"][..], &["run", "--keep-empty"][..]] {
        let (out, _) = notes_into_pipe(mode, "cat", b"hi\n\nthere\n");
        let want: &[u8] = if mode.len() == 1 {
            b"hi\nthere\n"
        } else {
            b"hi\n\nthere\n"
        };
        assert_eq!(out, want, "{mode:?}");
    }
    let (out, _) = notes_into_pipe(&["--json", "run"], "cat", b"a\nb\n");
    let lines: Vec<String> = serde_json::from_slice(&out).unwrap();
    assert_eq!(lines, ["a", "b"]);
}

/// Defect D4: the detached child inherited the caller's other descriptors (fd 3 here, a pipe
/// from `3>&1`), so a capture waited for it: 3 s for `sleep 3`. Python's
/// `Popen(start_new_session=True, close_fds=True)` returns at once.
#[cfg(target_os = "linux")]
#[test]
fn a_spawned_process_does_not_hold_the_callers_other_descriptors() {
    let script = format!(
        "{{ '{}' spawn -- sleep 5 >/dev/null; }} 3>&1 | cat",
        env!("CARGO_BIN_EXE_notes")
    );
    let start = Instant::now();
    let out = Command::new("sh").args(["-c", &script]).output().unwrap();
    let took = start.elapsed();
    assert!(out.status.success(), "{out:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

/// Defect D12: `notes --json run` made three write calls per line: 2 MB of `y` lines took
/// 3.9 s (0.05 s without --json). Buffered, it is a write per chunk of output.
#[test]
fn run_json_is_buffered() {
    let (out, took) = notes_into_pipe(&["--json", "run"], "yes | head -c 2000000", b"");
    let lines: Vec<String> = serde_json::from_slice(&out).unwrap();
    assert_eq!(lines.len(), 1_000_000);
    // Unbuffered, this took 3.9 s with a release build, far longer with a debug one.
    assert!(took < Duration::from_secs(3), "{took:?}");
}

/// The status as a shell reports it: the code, or 128 + the signal that killed it.
fn shell_status(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Defect D6: exit codes, durations, `--preserve-status` and signal names as GNU timeout
/// (compared with /usr/bin/timeout when it is installed): `-s KILL` and a `-k` KILL exited
/// 124 (GNU dies of the KILL it sends its group: 137), `""` 125 (GNU 127), `inf` and
/// `--preserve-status` and `-s PIPE` were refused.
#[test]
fn timeout_exits_as_gnu_timeout_does() {
    let cases: [(&[&str], i32); 8] = [
        (&["-s", "KILL", "0.2", "sleep", "5"], 137),
        (&["-s", "9", "0.2", "sleep", "5"], 137),
        (
            &["-k", "0.3", "0.2", "sh", "-c", "trap '' TERM; sleep 5"],
            137,
        ),
        (&["1", ""], 127),
        (&["--preserve-status", "0.2", "sleep", "3"], 143),
        (&["inf", "sh", "-c", "exit 4"], 4),
        (&["99999999999999999999", "true"], 0),
        (&["-s", "PIPE", "0.2", "sleep", "3"], 124),
    ];
    let gnu = std::path::Path::new("/usr/bin/timeout").exists();
    for (args, want) in cases {
        let ours = Command::new(env!("CARGO_BIN_EXE_notes"))
            .arg("timeout")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(shell_status(ours.status), want, "notes timeout {args:?}");
        if gnu {
            let theirs = Command::new("/usr/bin/timeout")
                .args(args)
                .output()
                .unwrap();
            assert_eq!(shell_status(theirs.status), want, "GNU timeout {args:?}");
        }
    }
    for signal in ["STOP", "SIGCONT", "WINCH", "13", "cld"] {
        let out = notes(&["timeout", "-s", signal, "5", "true"]);
        assert_eq!(out.status.code(), Some(0), "-s {signal}: {out:?}");
    }
}
