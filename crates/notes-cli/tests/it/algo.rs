//! `notes flatten` and `notes primes`: input limits, memory, and exact answers.

use std::process::{Command, Output};

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

/// Runs `sh -c script` with `$NOTES` set to the binary, feeding `stdin` from a thread.
fn sh(script: &str, stdin: Vec<u8>) -> Output {
    let mut command = Command::new("sh");
    command
        .args(["-c", script])
        .env("NOTES", env!("CARGO_BIN_EXE_notes"))
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG");
    crate::output_with_stdin(command, stdin)
}

#[test]
fn flatten_reads_twenty_megabytes_of_nesting_in_little_memory() {
    // 20 MB of nesting took 1.67 GB before the leaves were streamed; 300 MB of address space
    // is plenty for 40 MB of text now.
    let n = 10_000_000;
    let mut json = vec![b'['; n];
    json.extend_from_slice(b"1, [2]");
    json.extend(std::iter::repeat_n(b']', n));
    let out = sh("ulimit -v 300000 && exec \"$NOTES\" flatten -", json);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "[1, 2]\n");
}

#[test]
fn flatten_keeps_integers_of_any_size() {
    // serde_json's values turned 123456789012345678901234567890 into 1.2345678901234568e+29.
    let json = "[1, [123456789012345678901234567890, [-18446744073709551617]], 2.5]";
    let out = sh("exec \"$NOTES\" flatten -", json.into());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "[1, 123456789012345678901234567890, -18446744073709551617, 2.5]\n"
    );
    let out = notes(&["--json", "flatten", json]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed: String = text(&out.stdout).split_whitespace().collect();
    assert_eq!(
        printed,
        "[1,123456789012345678901234567890,-18446744073709551617,2.5]"
    );
}

#[test]
fn flatten_refuses_an_endless_stdin_at_the_limit() {
    // /dev/zero never ends: the default limit (64 MiB) stops it with a clear error.
    let out = sh("exec \"$NOTES\" flatten - < /dev/zero", Vec::new());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("error: stdin holds more bytes than the input limit of 67108864 bytes")
            && err.contains("--max-input"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn flatten_max_input_applies_to_stdin_and_files() {
    let out = sh("exec \"$NOTES\" flatten --max-input 1k -", vec![b' '; 1001]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("limit of 1000 bytes"));
    let out = sh(
        "exec \"$NOTES\" flatten --max-input 1k -",
        b"[[1], 2]".to_vec(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "[1, 2]\n");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    std::fs::write(&path, format!("[{}1]", " ".repeat(2000))).unwrap();
    let p = path.to_str().unwrap();
    let out = notes(&["flatten", "--max-input", "1Ki", "-i", p]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "{p} holds 2003 bytes, more than the input limit of 1024 bytes"
        )),
        "{err}"
    );
    let out = notes(&["--json", "flatten", "-i", p]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "[\n  1\n]\n");
    // A device never ends; the limit holds without a size to check first.
    let out = notes(&["flatten", "--max-input", "10", "-i", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("/dev/zero holds more bytes than the input limit of 10"));
}

#[test]
fn flatten_input_errors_name_their_source() {
    let out = sh("exec \"$NOTES\" flatten -", b"[1, \xff]".to_vec());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("error: stdin is not UTF-8 text: invalid byte at offset 4"));
    let out = notes(&["flatten", "-i", "/no/such/file.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot open /no/such/file.json"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, "[1,\n [2]").unwrap();
    let out = notes(&["flatten", "-i", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("bad.json: invalid JSON at line 2, column 5"),
        "{}",
        text(&out.stderr)
    );
    // JSON and a file together, or neither, are usage errors.
    assert_eq!(notes(&["flatten", "[1]", "-i", "x"]).status.code(), Some(2));
    assert_eq!(notes(&["flatten"]).status.code(), Some(2));
    assert_eq!(
        notes(&["flatten", "--max-input", "lots", "-"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn primes_nth_and_counts_on_every_thread_count() {
    for threads in ["1", "2"] {
        let out = notes(&["primes", "--nth", "1e9", "--threads", threads]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "22801763489\n");
        let out = notes(&["primes", "--count", "1e12", "--threads", threads]);
        assert_eq!(text(&out.stdout), "37607912018\n");
        // Quick enough: no slow-count warning.
        assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    }
    let out = notes(&["primes", "--nth", "1e12"]);
    assert_eq!(text(&out.stdout), "29996224275833\n");
}
