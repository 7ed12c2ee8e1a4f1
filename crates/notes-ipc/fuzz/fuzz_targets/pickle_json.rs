//! The JSON reader of `notes pickle from-json`: whatever it accepts must write as a pickle
//! that reads back as the same value, and convert back to JSON that reads the same again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use notes_ipc::{Limits, pickle};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::default().with_max_len(1 << 20);
    if let Ok(value) = pickle::from_json(text, &limits) {
        let shown = pickle::repr(&value).expect("a parsed value prints");
        let bytes = pickle::value_to_vec(&value).expect("a parsed value writes as a pickle");
        let again = pickle::from_slice(&bytes, &Limits::default()).expect("and reads back");
        assert_eq!(pickle::repr(&again).expect("repr"), shown, "pickle round trip");
        let json = serde_json::to_string(&pickle::Json::new(&value, &limits).expect("json")).expect("json");
        let back = pickle::from_json(&json, &limits).expect("its JSON reads back");
        assert_eq!(pickle::repr(&back).expect("repr"), shown, "JSON round trip");
    }
});
