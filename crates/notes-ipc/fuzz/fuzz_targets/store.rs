//! The data-file loader (header checks, then the bounded bincode decoder).
#![no_main]

use libfuzzer_sys::fuzz_target;
use notes_ipc::{Limits, store};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default().with_max_len(1 << 20);
    let _ = store::from_bytes::<serde_json::Value>(data, &limits);
    let _ = store::from_bytes::<Vec<(String, i64)>>(data, &limits);
});
