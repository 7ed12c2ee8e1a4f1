//! Parsing of the numbers people type for limits: `100`, `10_000_000`, `1e9`, `2.5e9`, `2^32`.

use crate::Error;

/// Parses a non-negative integer written as digits (with optional `_` separators),
/// in scientific notation with an integral value (`1e9`, `2.5e9`, `1E12`), or as a power
/// (`2^32`, `10^12`), possibly followed by `-K` or `+K` (`2^64-1`).
///
/// # Errors
/// [`Error::InvalidNumber`] naming the input when it is empty, negative, not a number,
/// not an integer or larger than `u64::MAX`.
///
/// ```
/// use notes_algo::parse_u64;
/// assert_eq!(parse_u64("10_000_000")?, 10_000_000);
/// assert_eq!(parse_u64("1e9")?, 1_000_000_000);
/// assert_eq!(parse_u64("2^32")?, 1 << 32);
/// assert_eq!(parse_u64("2^64-1")?, u64::MAX);
/// assert!(parse_u64("-5").is_err());
/// # Ok::<(), notes_algo::Error>(())
/// ```
pub fn parse_u64(text: &str) -> Result<u64, Error> {
    let fail = |reason: &str| Error::InvalidNumber {
        input: text.to_owned(),
        reason: reason.to_owned(),
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(fail("empty"));
    }
    if s.starts_with('-') {
        return Err(fail("negative numbers are not allowed"));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    // An offset after the main term: `2^64-1`, `1e9+7`.
    let (main, offset) = match s
        .char_indices()
        .skip(1)
        .find(|&(_, c)| c == '-' || c == '+')
    {
        Some((i, sign)) if !s[..i].ends_with(['e', 'E']) => {
            let k = digits(&s[i + 1..]).ok_or_else(|| fail("expected digits after the sign"))?;
            (
                &s[..i],
                if sign == '-' {
                    -i128::from(k)
                } else {
                    i128::from(k)
                },
            )
        }
        _ => (s, 0),
    };
    let value: u128 = if let Some((base, exp)) = main.split_once('^') {
        let base = digits(base).ok_or_else(|| fail("expected digits before `^`"))?;
        let exp = digits(exp).ok_or_else(|| fail("expected digits after `^`"))?;
        pow(base.into(), exp).ok_or_else(|| fail("larger than 2^64 - 1"))?
    } else if let Some((mantissa, exp)) = main.split_once(['e', 'E']) {
        let exp = digits(exp.strip_prefix('+').unwrap_or(exp))
            .ok_or_else(|| fail("expected digits after `e`"))?;
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty() {
            return Err(fail("expected digits before `e`"));
        }
        let frac = frac.trim_end_matches('0');
        let all = format!("{int}{frac}");
        let m = if all.is_empty() {
            Some(0)
        } else {
            digits(&all)
        }
        .ok_or_else(|| fail("not a number"))?;
        let frac_len = frac.len() as u64;
        if exp < frac_len {
            return Err(fail("not an integer"));
        }
        let scale = pow(10, exp - frac_len).ok_or_else(|| fail("larger than 2^64 - 1"))?;
        u128::from(m)
            .checked_mul(scale)
            .filter(|&v| v <= u128::from(u64::MAX) || m == 0)
            .ok_or_else(|| fail("larger than 2^64 - 1"))?
    } else {
        if main.contains('.') {
            return Err(fail("not an integer"));
        }
        let ok = !main.is_empty()
            && !main.starts_with('_')
            && !main.ends_with('_')
            && main.bytes().all(|b| b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(fail("not a number (try 100, 1e9, 10_000_000 or 2^32)"));
        }
        digits(main)
            .map(u128::from)
            .ok_or_else(|| fail("larger than 2^64 - 1"))?
    };
    let total = i128::try_from(value).map_err(|_| fail("larger than 2^64 - 1"))? + offset;
    if total < 0 {
        return Err(fail("negative numbers are not allowed"));
    }
    u64::try_from(total).map_err(|_| fail("larger than 2^64 - 1"))
}

/// Digits with optional `_` between them (not leading or trailing), as a u64.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || s.starts_with('_') || s.ends_with('_') {
        return None;
    }
    let mut v: u64 = 0;
    for b in s.bytes() {
        match b {
            b'0'..=b'9' => v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?,
            b'_' => {}
            _ => return None,
        }
    }
    Some(v)
}

/// base^exp when it is at most 2^64 (one more than u64::MAX, so `2^64-1` parses).
fn pow(base: u128, exp: u64) -> Option<u128> {
    let limit = 1u128 << 64;
    let mut acc = 1u128;
    for _ in 0..exp {
        acc = acc.checked_mul(base)?;
        if acc > limit {
            return None;
        }
        if acc <= 1 {
            break;
        }
    }
    Some(if base == 0 && exp > 0 { 0 } else { acc })
}

#[cfg(test)]
mod tests {
    use super::parse_u64;

    fn check(input: &str, expected: Result<u64, &str>) {
        let got = parse_u64(input).map_err(|e| e.to_string());
        match expected {
            Ok(v) => assert_eq!(got.ok(), Some(v), "{input}"),
            Err(msg) => {
                let err = got.expect_err(input);
                assert!(err.contains(msg), "{input}: {err}");
            }
        }
    }

    #[test]
    fn accepted_forms() {
        check("100", Ok(100));
        check("0", Ok(0));
        check(" 42 ", Ok(42));
        check("+7", Ok(7));
        check("10_000_000", Ok(10_000_000));
        check("1e9", Ok(1_000_000_000));
        check("1E12", Ok(1_000_000_000_000));
        check("2.5e9", Ok(2_500_000_000));
        check("1.50e2", Ok(150));
        check("0e0", Ok(0));
        check("1e19", Ok(10_000_000_000_000_000_000));
        check("2^32", Ok(1 << 32));
        check("10^12", Ok(1_000_000_000_000));
        check("2^0", Ok(1));
        check("0^0", Ok(1));
        check("0^5", Ok(0));
        check("1^1000000", Ok(1));
        check("2^64-1", Ok(u64::MAX));
        check("2^63+5", Ok((1 << 63) + 5));
        check("1e9+7", Ok(1_000_000_007));
        check("18446744073709551615", Ok(u64::MAX));
    }

    #[test]
    fn rejected_forms() {
        check("", Err("empty"));
        check("-5", Err("negative"));
        check("0-1", Err("negative"));
        check("abc", Err("not a number"));
        check("1.5", Err("not an integer"));
        check("1.5e0", Err("not an integer"));
        check("18446744073709551616", Err("larger than 2^64 - 1"));
        check("2^64", Err("larger than 2^64 - 1"));
        check("2^64+1", Err("larger than 2^64 - 1"));
        check("1e20", Err("larger than 2^64 - 1"));
        check("1e999999999999", Err("larger than 2^64 - 1"));
        check("_1", Err("not a number"));
        check("1__", Err("not a number"));
        check("2^", Err("after `^`"));
        check("e5", Err("before `e`"));
        check("0x10", Err("not a number"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = parse_u64(&s);
        }

        #[test]
        fn plain_and_underscored_digits_round_trip(n in proptest::num::u64::ANY) {
            proptest::prop_assert_eq!(parse_u64(&n.to_string()).ok(), Some(n));
            let s = n.to_string();
            let grouped: String = s.chars().rev().collect::<Vec<_>>().chunks(3)
                .map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("_")
                .chars().rev().collect();
            proptest::prop_assert_eq!(parse_u64(&grouped).ok(), Some(n));
        }
    }
}
