//! Prime numbers: lists, lazy ranges, π(n), the n-th prime and primality of any `u64`.
//!
//! Everything is built on one segmented sieve of Eratosthenes over the mod-30 wheel
//! (`sieve.rs`), Miller–Rabin for single numbers (`miller_rabin.rs`), and for large counts
//! Meissel's formula (`pi.rs`, below 1e10) and the Lagarias–Miller–Odlyzko method with
//! Deléglise–Rivat's easy leaves (`lmo.rs`, above: memory O(∛n), a few MB for any `u64`).

mod driver;
mod lmo;
mod miller_rabin;
mod nth;
mod pi;
mod sieve;

pub use driver::Primes;
#[cfg(test)]
use driver::count_sieve;
use driver::{count_sieve_threads, list_range, pi_combinatorial, run_chunks, wheel_primes};

use crate::Error;

/// How [`count_primes_with`] counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// The combinatorial method above [`AUTO_COMBINATORIAL_ABOVE`], the sieve below.
    #[default]
    Auto,
    /// Count the sieve's bits: time grows like n, memory stays a few MB.
    Sieve,
    /// Meissel's formula below 1e10 (one thread), the Lagarias–Miller–Odlyzko method above
    /// on every thread, with Deléglise–Rivat's easy special leaves from a π table (the hard
    /// ones in runs of sieve segments balanced by measured time, P2 in pieces): time about
    /// n^(2/3) (π(1e13) in about 0.14 s, π(1e15) in about 2.5 s on one 2024 server core),
    /// memory O(∛n) per thread, a few MB for any n.
    Combinatorial,
}

/// [`Method::Auto`] counts with the combinatorial method above this n: on one thread the sieve
/// and Meissel's formula are level near 2e6 (0.14 ms each), and at 1e7 the formula is already
/// 7× faster, so even two sieving threads lose above 4e6.
pub const AUTO_COMBINATORIAL_ABOVE: u64 = 4_000_000;

/// Options of the counting and listing functions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PrimeOptions {
    /// How to count (listing always sieves).
    pub method: Method,
    /// Threads for the sieve and the combinatorial count: `None` uses rayon's global pool
    /// (one per core), `Some(1)` stays on the calling thread. Without the `parallel` feature everything runs on the
    /// calling thread.
    pub threads: Option<usize>,
}

impl PrimeOptions {
    /// These options with `method`.
    #[must_use]
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// These options with `threads` threads.
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }
}

/// Whether `n` is prime, for any `u64` (deterministic Miller–Rabin after trial division).
///
/// ```
/// assert!(notes_algo::is_prime(18_446_744_073_709_551_557)); // 2^64 - 59
/// assert!(!notes_algo::is_prime(u64::MAX));
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn is_prime(n: u64) -> bool {
    miller_rabin::is_prime_u64(n)
}

/// The primes below `n`, ascending: the notes' `get_primes(n)`.
///
/// Allocates only the result (about `n / ln n` numbers) and a few MB of sieve state,
/// and sieves on all cores with the `parallel` feature.
///
/// ```
/// assert_eq!(notes_algo::primes_below(20), [2, 3, 5, 7, 11, 13, 17, 19]);
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn primes_below(n: u64) -> Vec<u64> {
    list_range(0, n, None)
}

/// The primes in `[lo, hi)` as a `Vec`, with options (threads).
///
/// # Errors
/// [`Error::Threads`] when `threads` is `Some(0)`.
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn primes_in_with(lo: u64, hi: u64, options: &PrimeOptions) -> Result<Vec<u64>, Error> {
    check_threads(options.threads)?;
    Ok(list_range(lo, hi, options.threads))
}

/// A lazy iterator over the primes in `[lo, hi)`, ascending.
///
/// Memory stays bounded (one cache-sized segment plus the sieving primes, at most a few MB)
/// however wide the range; ranges near 2^64 work (survivors above 2^40 are confirmed by
/// Miller–Rabin instead of sieving with primes up to 2^32).
///
/// ```
/// let near_top: Vec<u64> = notes_algo::primes_in(u64::MAX - 100, u64::MAX).collect();
/// assert_eq!(near_top, [18_446_744_073_709_551_521, 18_446_744_073_709_551_533, 18_446_744_073_709_551_557]);
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn primes_in(lo: u64, hi: u64) -> Primes {
    Primes::new(lo, hi)
}

/// π(n): how many primes are ≤ `n`, with [`Method::Auto`] on all cores.
///
/// Note the bound: `n` itself is counted when it is prime, whereas [`primes_below`]`(n)`
/// stops before `n` (as the notes' `get_primes(n)` does), so
/// `count_primes(n) == primes_below(n + 1).len()`.
///
/// ```
/// assert_eq!(notes_algo::count_primes(7), 4); // 2, 3, 5, 7
/// assert_eq!(notes_algo::primes_below(7).len(), 3); // 2, 3, 5
/// assert_eq!(notes_algo::count_primes(100), 25);
/// assert_eq!(notes_algo::count_primes(10_000_000_000), 455_052_511);
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn count_primes(n: u64) -> u64 {
    count(n, Method::Auto, None)
}

/// π(n) with a choice of method and threads.
///
/// # Errors
/// [`Error::Threads`] when `threads` is `Some(0)`.
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn count_primes_with(n: u64, options: &PrimeOptions) -> Result<u64, Error> {
    check_threads(options.threads)?;
    Ok(count(n, options.method, options.threads))
}

/// The `k`-th prime, 1-based: `nth_prime(1)` is 2.
///
/// # Errors
/// [`Error::NthPrime`] for `k = 0` and for `k` beyond the number of primes below 2^64
/// (425,656,284,035,217,743).
///
/// ```
/// assert_eq!(notes_algo::nth_prime(1)?, 2);
/// assert_eq!(notes_algo::nth_prime(1_000_000)?, 15_485_863);
/// # Ok::<(), notes_algo::Error>(())
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn nth_prime(k: u64) -> Result<u64, Error> {
    nth_prime_with(k, &PrimeOptions::default())
}

/// The number of primes below 2^64.
pub const PRIMES_BELOW_2_POW_64: u64 = 425_656_284_035_217_743;

/// [`nth_prime`] with options (the counting method and threads).
///
/// # Errors
/// As [`nth_prime`], and [`Error::Threads`].
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn nth_prime_with(k: u64, options: &PrimeOptions) -> Result<u64, Error> {
    check_threads(options.threads)?;
    if k == 0 || k > PRIMES_BELOW_2_POW_64 {
        return Err(Error::NthPrime { k });
    }
    if k <= 3 {
        return Ok([2, 3, 5][k as usize - 1]);
    }
    let from_top = PRIMES_BELOW_2_POW_64 - k; // primes above p_k
    if options.method != Method::Sieve && from_top < 100_000 {
        // One of the last primes below 2^64: count down from the top (the last 100,000
        // primes lie well within 2^64 − TOP_GAP).
        let top: Vec<u64> = primes_in(u64::MAX - TOP_GAP, u64::MAX).collect();
        return top
            .len()
            .checked_sub(1 + from_top as usize)
            .map(|i| top[i])
            .ok_or(Error::NthPrime { k });
    }
    // As primecount does: x = R⁻¹(k) is within about √x / ln x primes of p_k; count π(x)
    // exactly and sieve the short gap between x and p_k.
    let estimate = nth::riemann_r_inverse(k as f64);
    let x = if estimate >= (u64::MAX - 1) as f64 {
        u64::MAX - 1
    } else {
        estimate as u64
    };
    let below = count(x, options.method, options.threads);
    let count_in = |lo: u64, hi: u64| {
        wheel_primes(lo, hi).count() as u64
            + run_chunks(lo, hi, options.threads, sieve::count_range)
                .iter()
                .sum::<u64>()
    };
    nth::walk_to_nth(k, x, below, count_in).ok_or(Error::NthPrime { k })
}

fn check_threads(threads: Option<usize>) -> Result<(), Error> {
    match threads {
        Some(0) => Err(Error::Threads { threads: 0 }),
        _ => Ok(()),
    }
}

/// Counts and n-th primes within this distance of 2^64 come from [`PRIMES_BELOW_2_POW_64`]
/// and a short sieve down from the top (about 380,000 primes, a fraction of a second).
const TOP_GAP: u64 = 1 << 24;

/// π(n) by the chosen method.
fn count(n: u64, method: Method, threads: Option<usize>) -> u64 {
    let combinatorial = match method {
        Method::Auto => n > AUTO_COMBINATORIAL_ABOVE,
        Method::Sieve => false,
        Method::Combinatorial => true,
    };
    if combinatorial && n >= u64::MAX - TOP_GAP {
        // Near 2^64 Meissel's formula would run for days; π(2^64 − 1) is known, so count
        // the few primes in (n, 2^64) instead.
        let n_plus = n.saturating_add(1);
        PRIMES_BELOW_2_POW_64 - primes_in(n_plus, u64::MAX).count() as u64
    } else if combinatorial {
        pi_combinatorial(n, threads)
    } else {
        count_sieve_threads(n, threads)
    }
}

#[cfg(test)]
mod tests;
