#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

#[cfg(feature = "bwt")]
mod bwt;
mod error;
mod flatten;
mod number;
mod permutations;
mod primes;

#[cfg(feature = "bwt")]
pub use bwt::{
    BlockOptions, CONTAINER_MAGIC, CONTAINER_VERSION, ContainerHeader, DEFAULT_BLOCK_SIZE, bwt,
    bwt_bytes, bwt_bytes_in_place, bwt_of, decode_container, encode_container, inverse_bwt,
    inverse_bwt_bytes, inverse_bwt_bytes_in_place, inverse_bwt_of, read_container,
    read_container_header, write_container, write_container_from,
};
pub use error::Error;
#[cfg(feature = "json")]
pub use flatten::{ExactJsonLeaves, JsonLeaf, JsonLeaves, flatten_json, json_leaves, parse_json};
pub use flatten::{Leaves, List, Nested};
pub use number::parse_u64;
pub use permutations::{
    ArrayPermutations, DistinctPermutations, Permutations, array_permutations,
    count_distinct_permutations, count_permutations, distinct_permutations, next_permutation,
    permutations, string_permutations,
};
pub use primes::{
    AUTO_COMBINATORIAL_ABOVE, Method, PRIMES_BELOW_2_POW_64, PrimeOptions, Primes, count_primes,
    count_primes_with, is_prime, nth_prime, nth_prime_with, primes_below, primes_in,
    primes_in_with,
};
