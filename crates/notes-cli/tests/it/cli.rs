//! Exit statuses and error shapes of the `notes` spine.

use std::process::{Command, Output, Stdio};

fn notes(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("COLUMNS")
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
        "eta",
        "duration",
        "stamp",
        "primes",
        "flatten",
        "permutations",
        "bwt",
        "find",
        "rename",
        "delete",
        "clean-filename",
        "extract",
        "run",
        "timeout",
        "spawn",
        "tensor",
        "echo",
        "pickle",
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
    // One line each: no summary wraps onto a continuation line (at clap's default width).
    let commands = help
        .split("Commands:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("a Commands section");
    let names: Vec<&str> = commands
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        commands
            .lines()
            .all(|l| l.starts_with("  ") && !l.starts_with("   ")),
        "a subcommand summary wraps:\n{commands}"
    );
    assert_eq!(names.len(), commands.lines().count());
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
    assert!(
        stdout
            .contains("== Make a list of prime numbers ==\n# notes primes 100\n[2, 3, 5, 7, 11, ")
    );
    assert!(stdout.contains(
        "== Find all permutations of a string ==\n# notes permutations 1234\n['1234', '1243', "
    ));

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
fn primes_output_is_pipe_friendly_and_bounded() {
    // One prime per line, streamed: a limit of 2^40 would not fit in memory as a list, and
    // `head` closing the pipe must end the command quietly.
    let mut child = Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(["primes", "2^40"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn notes");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 8];
    std::io::Read::read_exact(&mut stdout, &mut first).expect("read");
    assert_eq!(&first, b"2\n3\n5\n7\n");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn primes_and_permutations_agree_with_their_counts() {
    let list = notes(&["primes", "10_000"]);
    let count = notes(&["primes", "--count", "9999"]);
    assert_eq!(
        text(&list.stdout).lines().count().to_string(),
        text(&count.stdout).trim()
    );
    let perms = notes(&["permutations", "mississ", "--distinct"]);
    let count = notes(&["permutations", "mississ", "--distinct", "--count"]);
    assert_eq!(
        text(&perms.stdout).lines().count().to_string(),
        text(&count.stdout).trim()
    );
    let json = notes(&["--json", "permutations", "ab", "--limit", "0"]);
    assert_eq!(text(&json.stdout), "[]\n");
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

    let json = notes(&["--json", "tensor", "print", y_arg]);
    assert!(json.status.success(), "{}", text(&json.stderr));
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["dtype"], "int64");
    assert_eq!(value["shape"], serde_json::json!([2, 5, 4]));
    assert_eq!(format!("{}\n", value["text"].as_str().unwrap()), shown);
    let json = notes(&["--json", "tensor", "demo"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value[0]["form"], "heads-first");
    assert_eq!(value[0]["x"]["shape"], serde_json::json!([1, 5, 1]));
    assert_eq!(value[1]["y"]["shape"], serde_json::json!([2, 5, 4]));
}

#[test]
fn tensor_print_names_a_file_that_is_not_npy_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "hello\n").unwrap();
    let out = notes(&["tensor", "print", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: {} is not a .npy file: it does not start with numpy's magic string \\x93NUMPY\n",
            path.display()
        )
    );
}

#[test]
fn echo_serve_once_and_send_talk_over_loopback() {
    use std::io::{BufRead, BufReader};

    let mut server = Command::new(env!("CARGO_BIN_EXE_notes"))
        .args([
            "echo",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--once",
            "--idle-timeout",
            "10",
        ])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the server");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    let addr = first
        .strip_prefix("Listening on ")
        .expect("the address line")
        .to_string();
    let out = notes(&[
        "echo",
        "send",
        "--addr",
        &addr,
        "--timeout",
        "10",
        "Hello, world",
    ]);
    assert_eq!(text(&out.stdout), "Received b'Hello, world'\n");
    assert!(server.wait().expect("server exit").success());
    let last = lines.next().expect("a summary").expect("utf-8");
    assert_eq!(
        last,
        "Served 1 connection(s), 12 bytes echoed, 0 ended with an error"
    );
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
    for row in ["algo.rs:", "(flatten)", "(json_leaves)"] {
        assert!(report.contains(row), "{row} missing:\n{report}");
    }
    let out = notes(&["--json", "prof", "show", path, "--filter", "json_leaves"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["name"], "json_leaves");
    assert_eq!(rows[0]["ncalls"], 1);
    let out = notes(&["prof", "diff", path, path]);
    assert!(text(&out.stdout).contains("1.00x"), "{}", text(&out.stdout));
    let out = notes(&["prof", "show", path, "--filter", "("]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(
            "error: invalid value '(' for '--filter <REGEX>': invalid restriction \"(\": \
             not a valid regex: unclosed group\n"
        ),
        "{stderr}"
    );
    let out = notes(&["prof", "show", path, "--fraction", "1.5"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn a_count_that_takes_long_says_so_before_it_starts() {
    use std::io::BufRead;

    let mut child = Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(["primes", "--count", "1e17"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn notes");
    let mut line = String::new();
    let stderr = child.stderr.take().expect("stderr");
    std::io::BufReader::new(stderr)
        .read_line(&mut line)
        .expect("read stderr");
    // The count itself would take tens of minutes: stop it once the warning is there.
    child.kill().expect("kill notes");
    child.wait().expect("reap notes");
    assert!(
        line.starts_with("warning: counting the primes up to 100000000000000000 will take roughly"),
        "{line}"
    );
    let quick = notes(&["primes", "--count", "1e9"]);
    assert!(quick.stderr.is_empty(), "{}", text(&quick.stderr));
}

#[test]
fn a_closed_stdout_is_not_an_error_for_json_either() {
    // serde_json hides the write error in its own type; the closed pipe must still be quiet.
    let mut child = Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(["--json", "permutations", "abcdefgh"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn notes");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 2];
    std::io::Read::read_exact(&mut stdout, &mut first).expect("read");
    assert_eq!(&first, b"[\n");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_says_it_was_standard_output() {
    for args in [
        &["primes", "10"][..],
        &["--json", "primes", "10"],
        &["--help"],
        &["find", ".", "-e", "rs"],
    ] {
        let full = std::fs::File::create("/dev/full").expect("open /dev/full");
        let out = Command::new(env!("CARGO_BIN_EXE_notes"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("NO_COLOR", "1")
            .stdout(full)
            .output()
            .expect("run notes");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            text(&out.stderr),
            "error: cannot write to standard output: No space left on device (os error 28)\n",
            "{args:?}"
        );
    }
}

#[test]
fn quiet_prints_no_warnings() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(["-q", "primes", "--count", "1e17"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn notes");
    // Without -q the warning comes at once (see above); give it ample time to appear.
    std::thread::sleep(std::time::Duration::from_millis(500));
    child.kill().expect("kill notes");
    let out = child.wait_with_output().expect("wait");
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn color_flag_reaches_clap_help_and_usage_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(["--color", "always", "--help"])
        .env_remove("NO_COLOR")
        .output()
        .expect("run notes");
    assert!(text(&out.stdout).contains("\u{1b}["), "no colour in help");
    let out = Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(["--color=never", "--bogus"])
        .env_remove("NO_COLOR")
        .output()
        .expect("run notes");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !text(&out.stderr).contains('\u{1b}'),
        "colour in a usage error"
    );
}

#[test]
fn man_renders_the_subcommand_pages_the_main_page_lists() {
    let main = text(&notes(&["man"]).stdout);
    assert!(main.contains("notes\\-tour(1)"), "{main}");
    let tour = notes(&["man", "tour"]);
    assert_eq!(tour.status.code(), Some(0));
    assert!(text(&tour.stdout).contains(".TH notes-tour 1"));
    let show = notes(&["man", "prof", "show"]);
    assert!(text(&show.stdout).contains(".TH notes-prof-show 1"));
    let bad = notes(&["man", "bogus"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).starts_with("error: `notes` has no subcommand `bogus`"));
}

#[test]
fn saved_reports_never_replace_one_another() {
    let dir = tempfile::tempdir().unwrap();
    let out = notes(&[
        "--profile",
        dir.path().join("run.prof").to_str().unwrap(),
        "flatten",
        "[1]",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let save = || {
        Command::new(env!("CARGO_BIN_EXE_notes"))
            .args(["prof", "show", "run.prof", "--save-report"])
            .current_dir(dir.path())
            .output()
            .expect("run notes")
    };
    // Three reports: at least two fall in the same second, none is lost.
    for _ in 0..3 {
        assert!(save().status.success());
    }
    let reports = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".profile ")
        })
        .count();
    assert_eq!(reports, 3);
    let profile = dir.path().join("run.prof");
    let out = notes(&[
        "--json",
        "prof",
        "show",
        profile.to_str().unwrap(),
        "--save-report",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
