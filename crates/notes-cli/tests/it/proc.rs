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
        "error: invalid value 'BOGUS' for '--signal <SIG>': unknown signal \"BOGUS\": expected one of HUP, INT, QUIT, KILL, USR1, USR2, ALRM, TERM (with or without SIG, or its number on Unix)\n\nFor more information, try '--help'.\n"
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
