//! Any string: the duration parsers return a value or an error, never panic, and what parses
//! formats back to text that parses to the same whole seconds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use notes_time::chrono::TimeDelta;
use notes_time::{ConciseDuration, Error, FormatOptions, Rounding, Style, parse_std_duration};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let std = parse_std_duration(input);
    match ConciseDuration::parse(input) {
        Ok(d) => {
            if let Ok(std) = std {
                assert_eq!(TimeDelta::from_std(std).ok(), Some(d.delta()));
            }
            for style in [Style::Fixed, Style::Compact] {
                let options = FormatOptions { style, rounding: Rounding::Trunc };
                let text = d.format(options);
                let back = ConciseDuration::parse(&text).expect("formatted text parses");
                assert_eq!(back.delta().num_seconds(), d.whole_seconds(Rounding::Trunc));
            }
        }
        Err(Error::InvalidDuration { column, .. }) => {
            assert!(std.is_err());
            assert!(column >= 1 && column <= input.chars().count() + 1);
        }
        Err(other) => panic!("unexpected error kind: {other}"),
    }
});
