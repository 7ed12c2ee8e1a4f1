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
    // Durations that do not parse are usage errors that name the input, like `diff 6x 1h`.
    for (bad, why) in [
        ("nan", r#"expected a number, found "nan" at column 1"#),
        ("1e300", r#"unknown unit "e" at column 2"#),
        (
            "99999999999999999999999",
            "the duration is too large (over 292 million years) at column 1",
        ),
    ] {
        let out = notes(&["duration", "format", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("invalid duration {bad:?}: {why}")),
            "{bad}: {stderr}"
        );
    }
    for args in [
        &[
            "duration",
            "sum",
            "100000000000d",
            "1d",
            "--times",
            "18446744073709551615",
        ][..],
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
fn lone_numbers_are_seconds_everywhere() {
    for args in [
        &["duration", "format", "4186"][..],
        &["duration", "format", "4186s"],
        &["duration", "format", "69.77m"],
        &["duration", "diff", "21670", "4h 51m 24s"],
        &["duration", "sum", "4186", "0", "--times", "3"],
    ] {
        assert_eq!(stdout(&notes(args)), " 1h  9m 46s\n", "{args:?}");
    }
    assert_eq!(
        stdout(&notes(&["duration", "format", "-0.5", "--round", "floor"])),
        "-0h  0m  1s\n"
    );
    let eta = notes(&[
        "eta",
        "--complete",
        "21670",
        "--current",
        "17484",
        "--done",
        "3",
        "--total",
        "5",
    ]);
    assert!(
        stdout(&eta)
            .starts_with("Time left (current) =  1h  9m 46s\nTime left (total)   =  7h 10m 56s\n"),
        "{eta:?}"
    );
}

#[test]
fn stamp_prefixes_the_last_component_of_a_path() {
    let name = stdout(&notes(&["stamp", "results/x.txt"]));
    let rest = name.strip_prefix("results/").expect("the directory kept");
    assert!(rest.ends_with(" x.txt\n") && !rest.contains('/'), "{name}");
    let name = stdout(&notes(&["stamp", "results/"]));
    assert!(!name[..name.len() - 1].ends_with(' '), "{name:?}");
    assert!(name.starts_with("results/2"), "{name:?}");
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
