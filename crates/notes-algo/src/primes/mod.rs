//! Prime numbers: lists, lazy ranges, π(n), the n-th prime and primality of any `u64`.
//!
//! Everything is built on one segmented sieve of Eratosthenes over the mod-30 wheel
//! (`sieve.rs`), Miller–Rabin for single numbers (`miller_rabin.rs`), and for large counts
//! Meissel's formula (`pi.rs`, below 1e10) and the Lagarias–Miller–Odlyzko method (`lmo.rs`,
//! above: memory O(∛n), a few MB for any `u64`).

mod lmo;
mod miller_rabin;
mod nth;
mod pi;
mod sieve;

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
    /// on every thread (its special leaves in runs of segments balanced by measured time, P2
    /// in pieces): time about n^(2/3) (π(1e12) in about 40 ms, π(1e16) in about 12 s on one
    /// 2024 server core), memory O(∛n) per thread, a few MB for any n.
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

/// From here on LMO is faster than Meissel's formula (measured: level at 1e10, 1.6× faster at
/// 1e11), and Meissel's memory would grow like √n.
const LMO_FROM: u64 = 10_000_000_000;

/// π(n) by Meissel's formula below [`LMO_FROM`] (at most about 1 MB there, one thread), by
/// LMO on `threads` threads above.
fn pi_combinatorial(n: u64, threads: Option<usize>) -> u64 {
    if n < LMO_FROM {
        pi::meissel(n)
    } else {
        lmo::lmo(n, threads)
    }
}

/// π(n) by sieving with `threads` threads.
pub(crate) fn count_sieve(n: u64, threads: usize) -> u64 {
    count_sieve_threads(n, Some(threads))
}

fn count_sieve_threads(n: u64, threads: Option<usize>) -> u64 {
    let hi = n.saturating_add(1);
    let mut total = wheel_primes(0, hi).count() as u64;
    total += if n == u64::MAX {
        // n itself is composite; [0, u64::MAX) covers every prime.
        run_chunks(0, u64::MAX, threads, sieve::count_range)
            .iter()
            .sum::<u64>()
    } else {
        run_chunks(0, hi, threads, sieve::count_range)
            .iter()
            .sum::<u64>()
    };
    total
}

/// The wheel primes 2, 3, 5 that lie in `[lo, hi)`.
fn wheel_primes(lo: u64, hi: u64) -> impl Iterator<Item = u64> {
    [2, 3, 5].into_iter().filter(move |&p| p >= lo && p < hi)
}

fn list_range(lo: u64, hi: u64, threads: Option<usize>) -> Vec<u64> {
    if lo < hi && hi <= EXACT_LIST_MAX && hi / 64 <= hi - lo && hi - lo >= 2 * MIN_CHUNK {
        return list_exact(lo, hi, threads);
    }
    let mut parts = run_chunks(lo, hi, threads, |a, b| {
        let mut v = Vec::with_capacity(estimate_count(a, b));
        if a == lo {
            v.extend(wheel_primes(lo, hi));
        }
        sieve::extend_range(a, b, &mut v);
        v
    });
    // One chunk (one thread, or a short range) is the answer as it is: no copy.
    if parts.len() <= 1 {
        return parts
            .pop()
            .unwrap_or_else(|| wheel_primes(lo, hi).collect());
    }
    parts.concat()
}

/// Lists with exact sizes: π at each chunk boundary by the combinatorial method (a few
/// milliseconds each at most below 2^36), one zeroed allocation of exactly the answer's length, and
/// every chunk's sieve writing its primes straight into its own slice of it (no
/// reallocation, no concatenation).
fn list_exact(lo: u64, hi: u64, threads: Option<usize>) -> Vec<u64> {
    let bounds = chunk_bounds(lo, hi, threads, 4);
    // Primes ≥ 7 below each chunk's start, and below hi.
    let starts: Vec<u64> = bounds
        .iter()
        .map(|&(a, _)| a)
        .chain(std::iter::once(hi))
        .collect();
    let below = run_on(
        &starts.iter().map(|&x| (x, x)).collect::<Vec<_>>(),
        threads,
        |x, _| primes_from_7_below(x),
    );
    let wheel: Vec<u64> = wheel_primes(lo, hi).collect();
    let total = wheel.len() + (below[below.len() - 1] - below[0]) as usize;
    let mut out = vec![0u64; total];
    out[..wheel.len()].copy_from_slice(&wheel);
    let mut slices = Vec::with_capacity(bounds.len());
    let mut rest = &mut out[wheel.len()..];
    for (k, &(a, b)) in bounds.iter().enumerate() {
        let (head, tail) = rest.split_at_mut((below[k + 1] - below[k]) as usize);
        slices.push((a, b, head));
        rest = tail;
    }
    if run_slices(slices, threads) {
        out
    } else {
        // Unreachable with exact counts; never return a wrong list if it ever happens.
        let mut v = wheel;
        for (a, b) in bounds {
            sieve::extend_range(a, b, &mut v);
        }
        v
    }
}

/// The largest `hi` listed with exact sizes (π(2^36) takes ~1 ms).
const EXACT_LIST_MAX: u64 = 1 << 36;

/// The number of primes ≥ 7 below `x`.
fn primes_from_7_below(x: u64) -> u64 {
    if x <= 7 {
        return 0;
    }
    pi_combinatorial(x - 1, Some(1)) - 3
}

/// Runs [`sieve::fill_range`] on each `(a, b, slice)`, in parallel when allowed; whether
/// every slice came out exactly full.
fn run_slices(slices: Vec<(u64, u64, &mut [u64])>, threads: Option<usize>) -> bool {
    let fill = |(a, b, s): (u64, u64, &mut [u64])| sieve::fill_range(a, b, s) == s.len();
    #[cfg(feature = "parallel")]
    if slices.len() > 1 && threads != Some(1) {
        use rayon::prelude::*;
        match threads {
            None => {
                return slices
                    .into_par_iter()
                    .map(fill)
                    .reduce(|| true, |x, y| x && y);
            }
            Some(t) => {
                // No threads to be had: fall through and do the same work here.
                if let Ok(pool) = rayon::ThreadPoolBuilder::new().num_threads(t).build() {
                    return pool.install(move || {
                        slices
                            .into_par_iter()
                            .map(fill)
                            .reduce(|| true, |x, y| x && y)
                    });
                }
            }
        }
    }
    let _ = threads;
    slices.into_iter().all(fill)
}

/// A slight overestimate of the primes in `[a, b)` (x / (ln x − 1.1) is above π(x) for
/// x ≥ 60), so listing rarely reallocates.
fn estimate_count(a: u64, b: u64) -> usize {
    let f = |x: u64| {
        let x = x.max(60) as f64;
        x / (x.ln() - 1.1)
    };
    let est = (f(b) - f(a)).max(0.0) * 1.02 + 64.0;
    est.min(1e9) as usize
}

/// Below this many numbers per thread a range is sieved on one thread.
const MIN_CHUNK: u64 = 1 << 22;

/// Splits `[lo, hi)` into chunks on multiples of 30 (`per_thread` per thread, so a slow one,
/// the dense start, does not hold the rest), or one chunk when threads would not pay.
fn chunk_bounds(lo: u64, hi: u64, threads: Option<usize>, per_thread: u64) -> Vec<(u64, u64)> {
    if lo >= hi {
        return Vec::new();
    }
    let span = hi - lo;
    #[cfg(feature = "parallel")]
    let n_threads = threads.unwrap_or_else(rayon::current_num_threads).max(1) as u64;
    #[cfg(not(feature = "parallel"))]
    let n_threads = {
        let _ = threads;
        1u64
    };
    if n_threads <= 1 || span < 2 * MIN_CHUNK {
        return vec![(lo, hi)];
    }
    let pieces = (span / MIN_CHUNK).min(n_threads * per_thread).max(2);
    let step = (span / pieces).div_ceil(30) * 30;
    (0..pieces)
        .map(|i| {
            let a = lo + (i * step).min(span);
            let b = if i + 1 == pieces {
                hi
            } else {
                lo + ((i + 1) * step).min(span)
            };
            (a.min(hi), b.min(hi))
        })
        .filter(|(a, b)| a < b)
        .collect()
}

/// Splits `[lo, hi)` into chunks ([`chunk_bounds`]) and runs `f` on each, in parallel when
/// the `parallel` feature is on and the range is worth it; results in range order.
fn run_chunks<T: Send>(
    lo: u64,
    hi: u64,
    threads: Option<usize>,
    f: impl Fn(u64, u64) -> T + Sync,
) -> Vec<T> {
    run_on(&chunk_bounds(lo, hi, threads, 8), threads, f)
}

/// Runs `f` on each `(a, b)`, on `threads` threads when there are several; results in order.
fn run_on<T: Send>(
    bounds: &[(u64, u64)],
    threads: Option<usize>,
    f: impl Fn(u64, u64) -> T + Sync,
) -> Vec<T> {
    #[cfg(feature = "parallel")]
    if bounds.len() > 1 {
        use rayon::prelude::*;
        let work = || bounds.par_iter().map(|&(a, b)| f(a, b)).collect::<Vec<T>>();
        return match threads {
            Some(1) => bounds.iter().map(|&(a, b)| f(a, b)).collect(),
            Some(t) => match rayon::ThreadPoolBuilder::new().num_threads(t).build() {
                Ok(pool) => pool.install(work),
                // No threads to be had: do the same work here.
                Err(_) => bounds.iter().map(|&(a, b)| f(a, b)).collect(),
            },
            None => work(),
        };
    }
    let _ = threads;
    bounds.iter().map(|&(a, b)| f(a, b)).collect()
}

/// The primes of a range, lazily: see [`primes_in`].
#[derive(Debug)]
pub struct Primes {
    /// How many of 2, 3, 5 have been considered.
    wheel: usize,
    lo: u64,
    hi: u64,
    sieve: Option<sieve::Segmented>,
    /// Survivors from here on are confirmed by Miller–Rabin.
    verify_from: u128,
    /// Primes of the current segment, extracted, and the read position.
    buf: Vec<u64>,
    pos: usize,
}

impl Primes {
    fn new(lo: u64, hi: u64) -> Self {
        Self {
            wheel: 0,
            lo,
            hi,
            sieve: (lo < hi).then(|| sieve::Segmented::new(lo, hi)),
            verify_from: u128::MAX,
            buf: Vec::new(),
            pos: 0,
        }
    }
}

impl Iterator for Primes {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        while self.wheel < 3 {
            let p = [2, 3, 5][self.wheel];
            self.wheel += 1;
            if p >= self.lo && p < self.hi {
                return Some(p);
            }
        }
        loop {
            if let Some(&p) = self.buf.get(self.pos) {
                self.pos += 1;
                return Some(p);
            }
            let sieve = self.sieve.as_mut()?;
            self.verify_from = sieve.verify_from();
            let Some((base, bits)) = sieve.next_segment() else {
                self.sieve = None;
                self.buf = Vec::new();
                return None;
            };
            self.buf.clear();
            self.pos = 0;
            let (lo, hi, buf, from) = (self.lo, self.hi, &mut self.buf, self.verify_from);
            sieve::for_each_word(base, bits, lo, hi, |byte, w| {
                sieve::push_word(byte, w, from, buf);
            });
        }
    }
}

impl std::iter::FusedIterator for Primes {}

#[cfg(test)]
mod tests;
