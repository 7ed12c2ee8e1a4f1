//! `spawn_detached`: a detached command's session, stdio and pid.

use std::process::{Command, Stdio};

use notes_proc::{Status, spawn_detached};

#[test]
fn a_detached_process_runs_on_and_reports_its_status() {
    let mut child = spawn_detached(
        Command::new("sh").args(["-c", "exit 7"]),
        Stdio::null(),
        Stdio::null(),
        Stdio::null(),
    )
    .unwrap();
    assert!(child.pid() > 0);
    assert_eq!(child.wait().unwrap(), Status::Code(7));
}

#[cfg(target_os = "linux")]
#[test]
fn a_detached_process_leads_its_own_session_and_can_be_killed() {
    let mut child = spawn_detached(
        Command::new("sleep").arg("30"),
        Stdio::null(),
        Stdio::null(),
        Stdio::null(),
    )
    .unwrap();
    let pid = child.pid();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // After the state: ppid, pgrp, session.
    assert_eq!(fields[2], pid.to_string(), "process group");
    assert_eq!(fields[3], pid.to_string(), "session");
    assert_eq!(child.try_wait().unwrap(), None);
    assert_eq!(child.kill().unwrap(), Status::Signal(9));
    assert!(crate::is_gone(pid));
}

#[test]
fn a_missing_program_fails_to_spawn_clearly() {
    let err = spawn_detached(
        &mut Command::new("notes-no-such-program"),
        Stdio::null(),
        Stdio::null(),
        Stdio::null(),
    )
    .unwrap_err();
    assert!(matches!(err, notes_proc::Error::NotFound { .. }), "{err:?}");
}
