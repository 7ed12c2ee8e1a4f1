//! Property tests of `notes-time`: round trips and no panics on arbitrary input.

use chrono::TimeDelta;
use notes_time::{ConciseDuration, FormatOptions, Rounding, Style, parse_std_duration};
use proptest::prelude::*;

/// Whole seconds across the whole range of `TimeDelta` (`i64::MAX` milliseconds).
const MAX_SECS: i64 = i64::MAX / 1000;

fn style() -> impl Strategy<Value = Style> {
    prop_oneof![Just(Style::Fixed), Just(Style::Compact)]
}

fn rounding() -> impl Strategy<Value = Rounding> {
    prop_oneof![
        Just(Rounding::Nearest),
        Just(Rounding::Floor),
        Just(Rounding::Ceil),
        Just(Rounding::Trunc),
    ]
}

fn seconds() -> impl Strategy<Value = i64> {
    // Mostly realistic ETAs, some at the extremes of the range.
    prop_oneof![4 => -400_000i64..400_000, 1 => -MAX_SECS..=MAX_SECS]
}

proptest! {
    #[test]
    fn parse_of_format_is_identity_at_second_precision(
        secs in seconds(), style in style(), rounding in rounding()
    ) {
        let d = ConciseDuration::from_delta(TimeDelta::seconds(secs));
        let text = d.format(FormatOptions { style, rounding });
        prop_assert_eq!(ConciseDuration::parse(&text)?, d, "{}", text);
    }

    #[test]
    fn formatting_rounds_to_a_whole_second_within_one(
        secs in seconds(), nanos in 0u32..1_000_000_000, rounding in rounding()
    ) {
        let Some(delta) = TimeDelta::new(secs, nanos) else { return Ok(()) };
        let d = ConciseDuration::from_delta(delta);
        let back = ConciseDuration::parse(&d.format(FormatOptions { style: Style::Fixed, rounding }))?;
        let error = (back.delta() - delta).abs();
        prop_assert!(error < TimeDelta::seconds(1), "{:?} -> {:?}", delta, back);
    }

    #[test]
    fn parser_never_panics(input in "\\PC{0,40}") {
        let _ = ConciseDuration::parse(&input);
        let _ = parse_std_duration(&input);
    }

    #[test]
    fn parser_never_panics_on_near_misses(input in "[-+ .0-9dhmsnuµx]{0,30}") {
        match ConciseDuration::parse(&input) {
            Ok(d) => {
                // Whatever parses also parses as a std duration exactly when it has no sign.
                let signed = input.trim_start().starts_with(['-', '+']);
                prop_assert_eq!(parse_std_duration(&input).is_ok(), !signed);
                if !signed {
                    prop_assert_eq!(TimeDelta::from_std(parse_std_duration(&input)?).ok(), Some(d.delta()));
                }
            }
            Err(err) => {
                // The column points inside the input or just past its end.
                let notes_time::Error::InvalidDuration { column, .. } = err else {
                    return Err(TestCaseError::fail(format!("unexpected error {err}")));
                };
                prop_assert!(column >= 1 && column <= input.chars().count() + 1);
            }
        }
    }

    #[test]
    fn fractional_units_agree_with_whole_ones(tenths in 0i64..100_000) {
        // "1.5h" is "5400s": fractions of every unit are exact at these sizes.
        let text = format!("{}.{}h", tenths / 10, tenths % 10);
        let d = ConciseDuration::parse(&text)?;
        prop_assert_eq!(d.delta(), TimeDelta::seconds(tenths * 360));
    }
}

#[test]
fn round_trip_edge_cases() {
    // zero, the 59 -> 60 carry, more than a day, negative, fractional input.
    let cases = [
        ("0s", " 0h  0m  0s", "0s"),
        ("59s", " 0h  0m 59s", "59s"),
        ("59.5s", " 0h  1m  0s", "1m"),
        ("59m 59.5s", " 1h  0m  0s", "1h"),
        ("1d 1h 1m 1s", "25h  1m  1s", "25h1m1s"),
        ("1000h", "1000h  0m  0s", "1000h"),
        ("-0.4s", " 0h  0m  0s", "0s"),
        ("-59m 59.5s", "-1h  0m  0s", "-1h"),
        ("-1h9m46s", "-1h  9m 46s", "-1h9m46s"),
        ("2.25m", " 0h  2m 15s", "2m15s"),
        ("0.0001h", " 0h  0m  0s", "0s"),
    ];
    let compact = FormatOptions {
        style: Style::Compact,
        ..FormatOptions::default()
    };
    for (input, fixed, short) in cases {
        let d = ConciseDuration::parse(input).unwrap();
        assert_eq!(d.to_string(), fixed, "{input}");
        assert_eq!(d.format(compact), short, "{input}");
        let rounded =
            ConciseDuration::from_delta(TimeDelta::seconds(d.whole_seconds(Rounding::Nearest)));
        assert_eq!(ConciseDuration::parse(fixed).unwrap(), rounded, "{input}");
        assert_eq!(ConciseDuration::parse(short).unwrap(), rounded, "{input}");
    }
}
