//! The pickle loader: whatever loads must also print, convert to JSON and back, and write
//! back as a pickle that reads as the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use notes_ipc::{Limits, pickle};

fuzz_target!(|data: &[u8]| {
    // A small memory budget: what would expand past it is refused early (the same code paths
    // as a large budget, in a fraction of the time per input).
    let limits = Limits::default()
        .with_max_len(1 << 20)
        .with_max_memory(256 << 10);
    if let Ok(value) = pickle::from_slice(data, &limits) {
        let Ok(shown) = pickle::repr_with(&value, &pickle::array_summary, &limits) else {
            // Too large once expanded: JSON is refused the same way.
            assert!(pickle::Json::new(&value, &limits).is_err());
            return;
        };
        // Its JSON, indented, may be larger than its repr: refused past the same budget.
        let json = match pickle::Json::new(&value, &limits) {
            Ok(json) => serde_json::to_string(&json).expect("a loaded value converts to JSON"),
            Err(notes_ipc::Error::TooLarge { .. }) => return,
            Err(err) => panic!("json: {err:?}"),
        };
        let back = pickle::from_json(&json, &Limits::default()).expect("the JSON reads back");
        assert_eq!(pickle::repr(&back).expect("repr"), shown, "JSON round trip");
        let bytes = pickle::value_to_vec(&value).expect("a loaded value writes back");
        let again = pickle::from_slice(&bytes, &Limits::default()).expect("what was written reads back");
        assert_eq!(pickle::repr(&again).expect("repr"), shown, "pickle round trip");
    }
});
