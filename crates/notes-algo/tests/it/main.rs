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
