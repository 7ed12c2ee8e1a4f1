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
        "prof",
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
fn profile_flag_writes_a_profile_that_prof_show_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.prof");
    let path = path.to_str().unwrap();
    let out = notes(&["--profile", path, "flatten", "[[1], [2, [3]]]"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "[1, 2, 3]\n");
    let out = notes(&["prof", "show", path, "--strip-dirs", "--sort", "name"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains("   Ordered by: function name\n"),
        "{report}"
    );
    for row in ["algo.rs:", "(flatten)", "(parse_json)"] {
        assert!(report.contains(row), "{row} missing:\n{report}");
    }
    let out = notes(&["--json", "prof", "show", path, "--filter", "parse_json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["name"], "parse_json");
    assert_eq!(rows[0]["ncalls"], 1);
    let out = notes(&["prof", "diff", path, path]);
    assert!(text(&out.stdout).contains("1.00x"), "{}", text(&out.stdout));
    let out = notes(&["prof", "show", path, "--filter", "("]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("error: invalid restriction \"(\""));
}
