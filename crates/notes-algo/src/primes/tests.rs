//! Tests of the primes API against trial division and known values of π and the n-th prime.

use super::*;

/// Primality by trial division: the slow, obviously correct reference for every test here.
pub(super) fn trial(n: u64) -> bool {
    n >= 2
        && (2..)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}

/// π(10^k) for k = 0..=12.
const PI_POW10: [u64; 13] = [
    0,
    4,
    25,
    168,
    1229,
    9592,
    78498,
    664_579,
    5_761_455,
    50_847_534,
    455_052_511,
    4_118_054_813,
    37_607_912_018,
];

#[test]
fn pi_of_every_n_up_to_100_000_matches_trial_division() {
    let limit = 100_000u64;
    let list = primes_below(limit + 1);
    let mut pi = 0;
    let mut next = list.iter().peekable();
    for n in 0..=limit {
        if trial(n) {
            pi += 1;
            assert_eq!(next.next(), Some(&n));
        }
        // Every 97th n through each counting path; the list covers the rest.
        if n % 97 == 0 || n < 300 {
            assert_eq!(count_sieve(n, 1), pi, "sieve π({n})");
            assert_eq!(primes_below(n + 1).len() as u64, pi, "list π({n})");
        }
    }
    assert_eq!(next.next(), None);
}

#[test]
fn every_window_of_small_ranges_matches_trial_division() {
    for lo in 0..70u64 {
        for hi in lo..lo + 70 {
            let want: Vec<u64> = (lo..hi).filter(|&n| trial(n)).collect();
            assert_eq!(primes_in(lo, hi).collect::<Vec<_>>(), want, "[{lo}, {hi})");
            let with = primes_in_with(lo, hi, &PrimeOptions::default()).unwrap();
            assert_eq!(with, want, "[{lo}, {hi})");
        }
    }
}

#[test]
fn known_values_of_pi() {
    for (k, &want) in PI_POW10.iter().enumerate().take(10) {
        let n = 10u64.pow(k as u32);
        assert_eq!(count_primes(n), want, "π(10^{k})");
        let comb = PrimeOptions::default().method(Method::Combinatorial);
        assert_eq!(
            count_primes_with(n, &comb).unwrap(),
            want,
            "combinatorial π(10^{k})"
        );
    }
    let sieve = PrimeOptions::default().method(Method::Sieve);
    assert_eq!(
        count_primes_with(10u64.pow(9), &sieve).unwrap(),
        PI_POW10[9]
    );
    for k in 10..=12 {
        assert_eq!(
            count_primes(10u64.pow(k)),
            PI_POW10[k as usize],
            "π(10^{k})"
        );
    }
}

#[test]
fn combinatorial_agrees_with_the_sieve_off_powers_of_ten() {
    let comb = PrimeOptions::default().method(Method::Combinatorial);
    let sieve = PrimeOptions::default().method(Method::Sieve);
    for n in [
        999_999u64,
        1_000_003,
        7_777_777,
        31_622_777,
        123_456_789,
        (1 << 31) - 1,
    ] {
        assert_eq!(
            count_primes_with(n, &comb).unwrap(),
            count_primes_with(n, &sieve).unwrap(),
            "π({n})"
        );
    }
}

#[test]
fn known_nth_primes() {
    for (k, want) in [
        (1u64, 2u64),
        (2, 3),
        (3, 5),
        (4, 7),
        (10, 29),
        (100, 541),
        (1000, 7919),
        (10_000, 104_729),
        (100_000, 1_299_709),
        (1_000_000, 15_485_863),
        (10_000_000, 179_424_673),
        (100_000_000, 2_038_074_743),
        (1_000_000_000, 22_801_763_489),
        (10_000_000_000, 252_097_800_623),
        (100_000_000_000, 2_760_727_302_517),
        (1_000_000_000_000, 29_996_224_275_833),
    ] {
        assert_eq!(nth_prime(k).unwrap(), want, "p({k})");
    }
    assert!(matches!(nth_prime(0), Err(Error::NthPrime { k: 0 })));
    assert!(nth_prime(PRIMES_BELOW_2_POW_64 + 1).is_err());
    assert!(nth_prime(u64::MAX).is_err());
}

#[test]
fn nth_prime_by_every_method_and_thread_count() {
    // p(k) and p(k) ± a few around the estimate's both sides: forwards and backwards walks.
    for k in [
        4u64, 5, 6, 7, 25, 26, 1229, 9592, 78_498, 664_579, 5_761_455, 5_761_456,
    ] {
        let want = nth_prime(k).unwrap();
        assert_eq!(count_primes(want), k, "π(p({k}))");
        assert!(is_prime(want));
        for options in [
            PrimeOptions::default().method(Method::Sieve).threads(1),
            PrimeOptions::default().method(Method::Sieve).threads(2),
            PrimeOptions::default()
                .method(Method::Combinatorial)
                .threads(2),
        ] {
            assert_eq!(
                nth_prime_with(k, &options).unwrap(),
                want,
                "p({k}) {options:?}"
            );
        }
    }
    // π(10^k) is the index of the largest prime below 10^k.
    for (k, &pi) in PI_POW10.iter().enumerate().skip(1) {
        let p = nth_prime(pi).unwrap();
        assert!(p < 10u64.pow(k as u32) && nth_prime(pi + 1).unwrap() > 10u64.pow(k as u32));
    }
}

#[test]
fn nth_prime_is_the_inverse_of_pi_on_small_numbers() {
    let list = primes_below(200_000);
    for (i, &p) in list.iter().enumerate().step_by(37) {
        assert_eq!(nth_prime(i as u64 + 1).unwrap(), p);
    }
}

#[test]
fn ranges_near_two_to_the_64() {
    // primal#1/#6/#50: crashes and overflows at unusual limits. Every edge must just work.
    let top = u64::MAX;
    let want: Vec<u64> = (top - 300..top).filter(|&n| is_prime(n)).collect();
    assert_eq!(primes_in(top - 300, top).collect::<Vec<_>>(), want);
    assert_eq!(want.last(), Some(&(top - 58)));
    assert_eq!(
        primes_in(top - 58, top - 57).collect::<Vec<_>>(),
        [top - 58]
    );
    assert_eq!(primes_in(top - 57, top).count(), 0);
    assert_eq!(primes_in(top, top).count(), 0);
    assert_eq!(primes_in(top - 1, top).count(), 0);
    assert_eq!(primes_in(10, 5).count(), 0);
    // Around 2^32 and 2^40, where the sieve switches to confirming survivors.
    for base in [1u64 << 32, 1 << 40, (1 << 40) - 10_000, 1 << 50, 1 << 63] {
        let want: Vec<u64> = (base..base + 3000).filter(|&n| is_prime(n)).collect();
        assert_eq!(
            primes_in(base, base + 3000).collect::<Vec<_>>(),
            want,
            "{base}"
        );
        assert_eq!(
            primes_in_with(base, base + 3000, &PrimeOptions::default().threads(2)).unwrap(),
            want
        );
    }
}

#[test]
fn counts_and_nth_primes_at_the_top_of_u64() {
    // π(2^64 − 1) overflowed in Meissel's cube root, and near 2^64 it would take days.
    let top = u64::MAX;
    assert_eq!(count_primes(top), PRIMES_BELOW_2_POW_64);
    assert_eq!(count_primes(top - 58), PRIMES_BELOW_2_POW_64);
    assert_eq!(count_primes(top - 59), PRIMES_BELOW_2_POW_64 - 1);
    let comb = PrimeOptions::default().method(Method::Combinatorial);
    assert_eq!(count_primes_with(top - 300, &comb).unwrap(), {
        PRIMES_BELOW_2_POW_64 - primes_in(top - 299, top).count() as u64
    });
    assert_eq!(nth_prime(PRIMES_BELOW_2_POW_64).unwrap(), top - 58);
    let last: Vec<u64> = primes_in(top - 300, top).collect();
    assert_eq!(
        nth_prime(PRIMES_BELOW_2_POW_64 - 2).unwrap(),
        last[last.len() - 3]
    );
    assert!(nth_prime(PRIMES_BELOW_2_POW_64 + 1).is_err());
}

#[test]
fn tiny_limits() {
    for n in 0..=3u64 {
        assert_eq!(
            primes_below(n),
            [2u64]
                .iter()
                .copied()
                .filter(|&p| p < n)
                .collect::<Vec<_>>()
        );
    }
    assert_eq!(count_primes(0), 0);
    assert_eq!(count_primes(1), 0);
    assert_eq!(count_primes(2), 1);
    assert_eq!(primes_below(100).len(), 25);
}

#[test]
fn threads_do_not_change_results() {
    let n = 30_000_000;
    let one = PrimeOptions::default().threads(1);
    let two = PrimeOptions::default().threads(2);
    let a = primes_in_with(0, n, &one).unwrap();
    let b = primes_in_with(0, n, &two).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        a.len() as u64,
        count_primes_with(n, &two.method(Method::Sieve)).unwrap()
    );
    assert!(matches!(
        count_primes_with(10, &PrimeOptions::default().threads(0)),
        Err(Error::Threads { threads: 0 })
    ));
}

#[test]
fn the_lazy_iterator_equals_the_list() {
    let n = 5_000_000;
    assert!(primes_in(0, n).eq(primes_below(n)));
    assert!(primes_in(1_234_567, n).eq(primes_below(n).into_iter().filter(|&p| p >= 1_234_567)));
}

proptest::proptest! {
    #[test]
    fn random_windows_match_is_prime(lo in 0u64..u64::MAX - 2000, width in 0u64..2000) {
        let got: Vec<u64> = primes_in(lo, lo + width).collect();
        let want: Vec<u64> = (lo..lo + width).filter(|&n| is_prime(n)).collect();
        proptest::prop_assert_eq!(got, want);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]

    #[test]
    fn combinatorial_counts_match_the_sieve(x in 0u64..2_000_000_000, threads in 1usize..3) {
        // Both combinatorial counts, LMO (its easy, trivial and hard leaves) and Meissel's
        // formula, against the sieve.
        let want = count_sieve(x, 1);
        proptest::prop_assert_eq!(super::lmo::lmo(x, Some(threads)), want);
        proptest::prop_assert_eq!(super::pi::meissel(x), want);
    }
}
