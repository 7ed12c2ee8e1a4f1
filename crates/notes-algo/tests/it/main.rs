//! The notes' own examples, through the public API only (the exhaustive and property tests
//! live next to the code).

#[test]
fn primes_below_100_are_the_notes_list() {
    let expected = [
        2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97,
    ];
    assert_eq!(notes_algo::primes_below(100), expected);
    assert_eq!(
        notes_algo::primes_in(90, 102).collect::<Vec<_>>(),
        [97, 101]
    );
    assert_eq!(notes_algo::count_primes(100), 25);
    assert!(notes_algo::is_prime(u64::MAX - 58));
}

#[test]
fn permutations_of_1234_are_the_notes_list_in_order() {
    let perms: Vec<String> = notes_algo::string_permutations("1234").collect();
    assert_eq!(perms.len(), 24);
    assert_eq!(&perms[..4], ["1234", "1243", "1324", "1342"]);
    assert_eq!(perms.last().map(String::as_str), Some("4321"));
    assert_eq!(
        notes_algo::distinct_permutations(&['a', 'a', 'b']).count(),
        3
    );
}

#[cfg(feature = "json")]
#[test]
fn the_notes_nested_list_flattens() {
    let x = notes_algo::parse_json(
        "[[0, 1, [2, [3, 4]], 5], 6, [[7]], 8, [[9, 10, 11]], 12, [[13], [14]], 15]",
    )
    .expect("valid JSON");
    let flat: Vec<i64> = x.flatten().iter().filter_map(|v| v.as_i64()).collect();
    assert_eq!(flat, (0..16).collect::<Vec<_>>());
}

#[cfg(feature = "bwt")]
#[test]
fn bwt_of_banana_round_trips() {
    let (last, index) = notes_algo::bwt("^BANANA|");
    assert_eq!((last.as_str(), index), ("BNN^AA|A", 6));
    assert_eq!(
        notes_algo::inverse_bwt(&last, index).expect("valid BWT"),
        "^BANANA|"
    );
    assert!(notes_algo::inverse_bwt("BNN^AA|A", 8).is_err());
}

/// π(10^k) for k = 0..=19 (OEIS A006880).
const PI_POW10: [u64; 20] = [
    0,
    4,
    25,
    168,
    1229,
    9592,
    78_498,
    664_579,
    5_761_455,
    50_847_534,
    455_052_511,
    4_118_054_813,
    37_607_912_018,
    346_065_536_839,
    3_204_941_750_802,
    29_844_570_422_669,
    279_238_341_033_925,
    2_623_557_157_654_233,
    24_739_954_287_740_860,
    234_057_667_276_344_607,
];

/// The fast part of the table, in the default suite: up to 10^13 (well under a second each).
#[test]
fn known_pi_of_powers_of_ten() {
    for (k, &pi) in PI_POW10.iter().enumerate().take(14) {
        let x = 10u64.pow(k as u32);
        assert_eq!(notes_algo::count_primes(x), pi, "π(10^{k})");
    }
    assert_eq!(
        notes_algo::nth_prime(1_000_000_000_000).unwrap(),
        29_996_224_275_833
    );
}

/// The slow tests of `cargo xtask ci --long`: the rest of the table (10^19 takes tens of
/// minutes on two cores) and n-th primes up to 10^15.
#[cfg(feature = "long-tests")]
mod long {
    #[test]
    fn known_pi_of_powers_of_ten_up_to_10_pow_19() {
        for (k, &pi) in super::PI_POW10.iter().enumerate().skip(14) {
            let x = 10u64.pow(k as u32);
            assert_eq!(notes_algo::count_primes(x), pi, "π(10^{k})");
        }
    }

    #[test]
    fn known_nth_primes_up_to_10_pow_15() {
        for (k, p) in [
            (10_000_000_000_000u64, 323_780_508_946_331u64),
            (100_000_000_000_000, 3_475_385_758_524_527),
            (1_000_000_000_000_000, 37_124_508_045_065_437),
        ] {
            assert_eq!(notes_algo::nth_prime(k).unwrap(), p, "p({k})");
        }
    }
}
