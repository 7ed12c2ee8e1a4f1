//! `call_with_timeout`: results in time, functions killed at the deadline, panics.

use std::time::{Duration, Instant};

use notes_proc::{Error, call_with_timeout};

fn slow(steps: u64) -> u64 {
    for _ in 0..steps {
        std::thread::sleep(Duration::from_millis(100));
    }
    42
}

fn sleep_and_report_pid(path: String) -> u32 {
    std::fs::write(&path, std::process::id().to_string()).unwrap();
    std::thread::sleep(Duration::from_secs(30));
    0
}

fn panics(message: String) -> u32 {
    panic!("{message}");
}

#[test]
fn a_function_that_returns_in_time_gives_its_value() {
    notes_proc::init();
    assert_eq!(
        call_with_timeout(slow, 1, Duration::from_secs(20)).unwrap(),
        Some(42)
    );
}

#[test]
fn a_function_that_overruns_is_killed_at_the_deadline() {
    notes_proc::init();
    let dir = std::env::temp_dir().join(format!("notes-proc-call-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("pid");
    let start = Instant::now();
    let result = call_with_timeout(
        sleep_and_report_pid,
        file.display().to_string(),
        Duration::from_millis(1500),
    );
    let took = start.elapsed();
    assert_eq!(result.unwrap(), None);
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let pid: u32 = std::fs::read_to_string(&file).unwrap().parse().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    #[cfg(target_os = "linux")]
    assert!(crate::is_gone(pid), "the child {pid} survived its deadline");
    let _ = pid;
}

#[test]
fn a_panic_in_the_child_is_an_error_with_its_message() {
    notes_proc::init();
    let err = call_with_timeout(panics, "boom".to_owned(), Duration::from_secs(20)).unwrap_err();
    match &err {
        Error::Panicked { message, location } => {
            assert_eq!(message, "boom");
            assert!(
                location.as_deref().is_some_and(|l| l.contains("call.rs")),
                "{location:?}"
            );
        }
        other => panic!("expected a panic error, got {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("the function panicked in its child process: boom")
    );
}
