//! `examples/checkpoint.rs` interrupted as a user or a scheduler would: Ctrl-C's SIGINT
//! exits 130, SIGTERM 143, SIGHUP 129, and the pickle it leaves opens in Python.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use notes_ipc::{Limits, pickle};

use crate::python::{python, stdout};

/// The example's binary, built next to this test binary (`cargo test` builds examples).
fn example() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let path = dir.join("examples").join("checkpoint");
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "notes-ipc", "--example", "checkpoint"])
            .status()
            .expect("cargo build");
        assert!(status.success());
    }
    path
}

fn wait(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("the example did not stop on the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn interrupted_by(signal: &str, code: i32) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("items.pkl");
    let mut child = Command::new(example())
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the example");
    // Long enough for the handlers and a few items, shorter than the 1 s periodic save.
    std::thread::sleep(Duration::from_millis(400));
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let status = wait(&mut child);
    assert_eq!(status.code(), Some(code), "SIG{signal}: {status:?}");
    // The list holds 0, 1, 2, ... with no gap: the last consistent state.
    let value = pickle::load(&path, &Limits::default()).expect("the saved pickle");
    let pickle::Value::List(items) = &value else {
        panic!("not a list: {value:?}");
    };
    assert!(items.len() >= 3, "only {} items", items.len());
    for (i, item) in items.iter().enumerate() {
        assert_eq!(*item, pickle::Value::Int(i as i64));
    }
    let script = "import pickle, sys\nx = pickle.load(open(sys.argv[1], 'rb'))\nprint(len(x), x == list(range(len(x))))";
    if let Some(out) = python(script, &[path.to_str().expect("utf-8")]) {
        assert_eq!(stdout(&out).trim(), format!("{} True", items.len()));
    }
    // Nothing but the file is left in the directory (no temporary file).
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["items.pkl"]);
}

#[test]
fn ctrl_c_saves_the_list_and_exits_130() {
    interrupted_by("INT", 130);
}

#[test]
fn sigterm_saves_the_list_and_exits_143() {
    interrupted_by("TERM", 143);
}

#[test]
fn sighup_saves_the_list_and_exits_129() {
    interrupted_by("HUP", 129);
}
