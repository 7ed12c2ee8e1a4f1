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
    assert!(took < Duration::from_secs(2), "{took:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    for pid in stdout.split_whitespace() {
        let pid: i32 = pid.parse().unwrap();
        // Both got SIGTERM then SIGKILL and were reaped (or are zombies of init).
        let alive = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            !stat
                .rsplit_once(')')
                .unwrap()
                .1
                .trim_start()
                .starts_with('Z')
        });
        assert!(!alive, "pid {pid} survived");
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
