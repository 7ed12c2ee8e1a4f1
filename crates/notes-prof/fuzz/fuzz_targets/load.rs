//! The stats-file loader (both formats: notes-prof's and pstats' marshal) must return an error,
//! never panic, hang or allocate without bound, on any bytes; what it accepts must save back
//! to bytes that load equal (times to the nanosecond up to float seconds' precision).
#![no_main]

use libfuzzer_sys::fuzz_target;
use notes_prof::{Calls, Stats};

fn close(a: &Calls, b: &Calls) -> bool {
    let near = |x: std::time::Duration, y: std::time::Duration| {
        let (x, y) = (x.as_secs_f64(), y.as_secs_f64());
        (x - y).abs() <= 1e-6_f64.max(x.abs() * 1e-12)
    };
    a.ncalls == b.ncalls && a.pcalls == b.pcalls && near(a.tottime, b.tottime) && near(a.cumtime, b.cumtime)
}

fn same(a: &Stats, b: &Stats) -> bool {
    a.len() == b.len()
        && a.functions().zip(b.functions()).all(|((fa, ra), (fb, rb))| {
            fa == fb
                && close(&ra.calls, &rb.calls)
                && ra.callers.len() == rb.callers.len()
                && ra.callers.iter().zip(&rb.callers).all(|((ca, ea), (cb, eb))| ca == cb && close(ea, eb))
        })
}

fuzz_target!(|data: &[u8]| {
    // As given (either format), and behind a `{` so that every input reaches the marshal reader.
    let mut dict = Vec::with_capacity(data.len() + 1);
    dict.push(b'{');
    dict.extend_from_slice(data);
    for bytes in [data, &dict[..]] {
        if let Ok(stats) = Stats::from_bytes(bytes, "fuzz") {
            let again = Stats::from_bytes(&stats.to_bytes(), "fuzz").expect("pstats round trip");
            assert!(same(&again, &stats));
            let legacy = Stats::from_bytes(&stats.to_notes_prof_bytes(), "fuzz").expect("notes-prof round trip");
            assert_eq!(legacy, stats);
        }
    }
});
