//! The frame decoder: a stream of frames decoded as a recursive type and as a struct.
#![no_main]

use libfuzzer_sys::fuzz_target;
use notes_ipc::{Limits, frame};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default().with_max_len(1 << 20);
    let mut r = data;
    // Each frame consumes at least its 4-byte header, so this loop ends.
    while let Ok(Some(_)) = frame::recv_with::<_, serde_json::Value>(&mut r, &limits) {}
    let mut r = data;
    while let Ok(Some(_)) = frame::recv_with::<_, (String, Vec<u64>, Option<bool>)>(&mut r, &limits)
    {
    }
});
