//! Whether [`init`](crate::init) ran, and on the main thread: the state both
//! `call_with_timeout` and the subreaper helper read (a leaf: it imports nothing of the crate).

use std::sync::atomic::{AtomicBool, Ordering};

static INITIALIZED: AtomicBool = AtomicBool::new(false);
/// Whether [`init`](crate::init) ran while this process had one thread, as "first thing in `main`" has it:
/// then a new start of this executable reaches it before anything else runs (in a test
/// harness, which runs tests on threads of their own, it does not).
static INITIALIZED_IN_MAIN: AtomicBool = AtomicBool::new(false);

/// Records that [`init`](crate::init) has run, and whether this process had one thread then.
pub(crate) fn mark_initialized() {
    INITIALIZED.store(true, Ordering::SeqCst);
    // The helper blocks the signals it waits for on its one thread: a thread started before
    // `init()` (an async runtime's, a test harness's) would take them instead.
    #[cfg(target_os = "linux")]
    if std::fs::read_dir("/proc/self/task").is_ok_and(|tasks| tasks.count() == 1) {
        INITIALIZED_IN_MAIN.store(true, Ordering::SeqCst);
    }
}

/// Whether [`init`](crate::init) has run in this process.
pub(crate) fn initialized() -> bool {
    INITIALIZED.load(Ordering::SeqCst)
}

/// Whether [`init`](crate::init) has run in this process, on its main thread.
pub(crate) fn initialized_in_main() -> bool {
    INITIALIZED_IN_MAIN.load(Ordering::SeqCst)
}
