//! Exit statuses and error shapes of the `notes` spine.

use std::process::{Command, Output, Stdio};

fn notes(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("run notes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_every_subcommand_with_one_line() {
    let out = notes(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for sub in [
        "tour",
        "flatten",
        "clean-filename",
        "extract",
        "tensor",
        "completions",
        "man",
    ] {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{sub} ")));
        assert!(
            line.is_some_and(|l| l.len() > sub.len() + 4),
            "no help line for {sub}:\n{help}"
        );
    }
}

#[test]
fn usage_errors_exit_2_and_runtime_errors_exit_1() {
    let out = notes(&["--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("error: unexpected argument '--no-such-flag'"));

    let out = notes(&["tour", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("error: --json is not supported by `notes tour`"));

    let out = notes(&["extract", "/nonexistent/notes/file.txt"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: cannot read /nonexistent/notes/file.txt: "),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn completions_and_man_page_render() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = notes(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        assert!(text(&out.stdout).contains("notes"), "{shell}");
    }
    let out = notes(&["man"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).starts_with(".ie"));
}

#[test]
fn tour_lists_and_runs_sections() {
    let out = notes(&["tour", "--list"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).lines().any(|l| l.starts_with("flatten ")));

    let out = notes(&["tour"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("== Recursively flatten a list of irregularly nested lists =="));
    assert!(stdout.contains("hello_world___.txt"));

    let out = notes(&["tour", "no-such-section"]);
    assert_eq!(out.status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn a_closed_stdout_is_not_an_error() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(["completions", "zsh"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn notes");
    // Close the read end at once, as `notes ... | head -0` would.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn tensor_multihead_writes_a_npy_that_prints_like_numpy() {
    let dir = tempfile::tempdir().unwrap();
    let docs = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/multihead-matmul.in"
    );
    let y = dir.path().join("y.npy");
    let y_arg = y.to_str().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_notes"))
        .current_dir(docs)
        .args([
            "tensor",
            "multihead",
            "--x",
            "x.npy",
            "--w",
            "w.npy",
            "-o",
            y_arg,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("wrote {y_arg}: int64 (2, 5, 4)\n")
    );
    let printed = notes(&["tensor", "print", y_arg]);
    let shown = text(&printed.stdout);
    assert!(
        shown.starts_with("[[[   408000000  10509000000  20610000000  30711000000]\n"),
        "{shown}"
    );
    assert!(shown.ends_with("  [      485256       495357       505458       515559]]]\n"));
    let bad = notes(&["tensor", "print", "--sign", "x", y_arg]);
    assert_eq!(bad.status.code(), Some(2));
}
