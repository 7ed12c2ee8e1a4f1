//! `notes eta`, `notes duration` and `notes stamp`: what the docs pages cannot pin down
//! because it depends on the clock.

use std::process::{Command, Output};

use notes_time::chrono::{DateTime, Local, NaiveDateTime, TimeDelta};

fn notes(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notes"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("run notes")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

const NOTES_ETA: &[&str] = &[
    "eta",
    "--complete",
    "6h  1m 10s",
    "--current",
    "4h 51m 24s",
    "--done",
    "3",
    "--total",
    "5",
];

#[test]
fn eta_finish_time_is_now_plus_the_total_left() {
    let before = Local::now().naive_local();
    let text = stdout(&notes(NOTES_ETA));
    let after = Local::now().naive_local();
    let finish = text
        .lines()
        .find_map(|l| l.strip_prefix("Estimated finish    = "))
        .expect("a finish line");
    let finish = NaiveDateTime::parse_from_str(finish, "%Y-%m-%d %H:%M:%S").expect("the format");
    let left = TimeDelta::seconds(7 * 3600 + 10 * 60 + 56);
    // The printed time is truncated to the second.
    assert!(finish >= before + left - TimeDelta::seconds(1), "{finish}");
    assert!(finish <= after + left, "{finish}");

    let mut args = vec!["--json"];
    args.extend_from_slice(NOTES_ETA);
    let json: serde_json::Value = serde_json::from_str(&stdout(&notes(&args))).expect("JSON");
    let finish =
        DateTime::parse_from_rfc3339(json["finish"].as_str().expect("a string")).expect("RFC 3339");
    let now = Local::now();
    let from_now = finish.signed_duration_since(now) - left;
    assert!(from_now.abs() < TimeDelta::seconds(60), "{finish} vs {now}");
    assert_eq!(json["total_remaining"]["seconds"], 25856.0);
}

#[test]
fn stamp_is_now_without_colons() {
    let before = Local::now().naive_local();
    let name = stdout(&notes(&["stamp", "Output.txt"]));
    let after = Local::now().naive_local();
    let stamp = name
        .strip_suffix(" Output.txt\n")
        .expect("the name at the end");
    assert!(!name.contains(':'));
    let time = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H-%M-%S%.6f").expect("the format");
    assert!(
        before <= time && time <= after,
        "{before} <= {time} <= {after}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&stdout(&notes(&["--json", "stamp", "x"]))).expect("JSON");
    assert!(json.as_str().is_some_and(|s| s.ends_with(" x")), "{json}");
}

#[test]
fn bad_numbers_are_errors_not_panics() {
    for args in [
        &["duration", "format", "nan"][..],
        &["duration", "format", "1e300"],
        &[
            "duration",
            "sum",
            "100000000000d",
            "1d",
            "--times",
            "18446744073709551615",
        ],
        &[
            "eta",
            "--complete",
            "1h",
            "--current",
            "2h",
            "--done",
            "0",
            "--total",
            "0",
        ],
    ] {
        let out = notes(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn tour_replays_both_notes() {
    let text = stdout(&notes(&["tour", "eta", "timestamped-filename"]));
    assert!(
        text.contains("Time left (total)   =  7h 10m 56s\n"),
        "{text}"
    );
    assert!(text.contains("== Get a timestamped filename =="), "{text}");
    assert!(
        text.lines()
            .any(|l| l.ends_with(" Output.txt") && !l.contains(':')),
        "{text}"
    );
}
