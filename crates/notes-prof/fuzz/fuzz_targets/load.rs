//! The stats-file loader must return an error, never panic, on any bytes; what it accepts
//! must save back to bytes that load equal.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(stats) = notes_prof::Stats::from_bytes(data, "fuzz") {
        let again = notes_prof::Stats::from_bytes(&stats.to_bytes(), "fuzz").expect("round trip");
        assert_eq!(again, stats);
    }
});
