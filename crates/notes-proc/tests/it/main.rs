//! Integration tests of notes-proc: real processes, on Unix (the primary target).
#![cfg(unix)]

mod call;
mod run;
mod spawn;

// procspawn starts this test binary again to run `call_with_timeout`'s functions.
procspawn::enable_test_support!();

/// Whether `pid` is gone: no such process, or a zombie waiting to be reaped by init (a killed
/// orphan whose parent is not us). A process that got SIGKILL closes its files (so our pipes
/// see end of file) a moment before it turns into a zombie, so this allows it 1 s for that.
#[cfg(target_os = "linux")]
pub(crate) fn is_gone(pid: u32) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(1) {
        if is_gone_now(pid) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    false
}

#[cfg(target_os = "linux")]
pub(crate) fn is_gone_now(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            // The state follows the parenthesised command name: "pid (comm) S ...".
            let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
            state.is_some_and(|s| s.starts_with('Z') || s.starts_with('X'))
        }
    }
}
