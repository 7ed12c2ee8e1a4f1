/// What can go wrong in `notes-algo`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// JSON text given to [`parse_json`](crate::parse_json) is malformed.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column (in characters) of the problem.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// [`nth_prime`](crate::nth_prime) was asked for the 0th prime, or for one beyond the
    /// primes below 2^64.
    #[error(
        "there is no prime number {k}: k must be between 1 and 425656284035217743 (the primes below 2^64)"
    )]
    NthPrime {
        /// The requested (1-based) index.
        k: u64,
    },
    /// A thread count of zero was requested.
    #[error("invalid thread count {threads}: at least 1 thread is needed")]
    Threads {
        /// The requested count.
        threads: usize,
    },
    /// Text given to [`parse_u64`](crate::parse_u64) is not a number in range.
    #[error("invalid number {input:?}: {reason}")]
    InvalidNumber {
        /// The text as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A count of permutations does not fit in a `u128`.
    #[error("the number of permutations of {len} items does not fit in 128 bits")]
    CountOverflow {
        /// How many items were permuted.
        len: usize,
    },
}
