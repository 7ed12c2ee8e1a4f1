//! The pickle loader: whatever loads must also render and write back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use notes_ipc::{Limits, pickle};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default().with_max_len(1 << 20);
    if let Ok(value) = pickle::from_slice(data, &limits) {
        let _ = pickle::repr(&value);
        let _ = serde_json::to_string(&pickle::Json(&value));
        let bytes = pickle::value_to_vec(&value).expect("a loaded value writes back");
        // Shared references are written out in full, so read back with the larger default limit.
        pickle::from_slice(&bytes, &Limits::default()).expect("what was written reads back");
    }
});
