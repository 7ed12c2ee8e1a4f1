//! The sieve on every core: counting and listing primes by sieving chunks of a range on
//! threads (balanced by their estimated work), and the lazy [`Primes`] iterator over a range.

use super::{lmo, pi, sieve};

/// π(n) by sieving with `threads` threads.
#[cfg(test)]
pub(crate) fn count_sieve(n: u64, threads: usize) -> u64 {
    count_sieve_threads(n, Some(threads))
}

pub(super) fn count_sieve_threads(n: u64, threads: Option<usize>) -> u64 {
    let hi = n.saturating_add(1);
    let mut total = wheel_primes(0, hi).count() as u64;
    // When n = u64::MAX, hi = n is composite: [0, u64::MAX) holds every prime.
    total += run_on(&count_bounds(0, hi, threads), threads, sieve::count_range)
        .iter()
        .sum::<u64>();
    total
}

/// Chunks for counting in parallel, as primesieve 11 cuts them (its ParallelSieve.cpp):
/// about 1000 √hi numbers each (π(1e10): about 100 chunks, π(1e9): about 30), about a multiple
/// of the threads in number, each a whole number of segments. Threads take the next chunk as
/// they become free (rayon's work stealing), so one slow chunk (a busy core) holds the others
/// back by little, and each chunk's start-up (its sieving primes' first multiples) stays
/// below 1% of its work (with 2 threads the CPU time is within 2% of one thread's).
fn count_bounds(lo: u64, hi: u64, threads: Option<usize>) -> Vec<(u64, u64)> {
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
    let balanced = sieve::isqrt(hi).saturating_mul(1000).max(MIN_CHUNK);
    let mut pieces = (span / balanced.min(span / n_threads)).max(1);
    // At most 2^16 chunks (a 1 MB list), however wide the range.
    pieces = (pieces.min(1 << 16) / n_threads * n_threads).max(n_threads);
    // Whole segments per chunk, so no chunk sieves a short segment but the last.
    let seg = 30 * sieve::segment_bytes() as u64;
    let step = (span / pieces).div_ceil(seg) * seg;
    let pieces = span.div_ceil(step);
    (0..pieces)
        .map(|i| {
            let a = lo + (i * step).min(span);
            let b = if i + 1 == pieces {
                hi
            } else {
                lo + ((i + 1) * step).min(span)
            };
            (a, b)
        })
        .filter(|(a, b)| a < b)
        .collect()
}

/// The wheel primes 2, 3, 5 that lie in `[lo, hi)`.
pub(super) fn wheel_primes(lo: u64, hi: u64) -> impl Iterator<Item = u64> {
    [2, 3, 5].into_iter().filter(move |&p| p >= lo && p < hi)
}

pub(super) fn list_range(lo: u64, hi: u64, threads: Option<usize>) -> Vec<u64> {
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
pub(super) fn run_chunks<T: Send>(
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

/// The primes of a range, lazily: see [`primes_in`](crate::primes_in).
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
    pub(super) fn new(lo: u64, hi: u64) -> Self {
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

/// From here on LMO is faster than Meissel's formula (measured: level at 1e10, 1.6× faster at
/// 1e11), and Meissel's memory would grow like √n.
const LMO_FROM: u64 = 10_000_000_000;

/// π(n) by Meissel's formula below [`LMO_FROM`] (at most about 1 MB there, one thread), by
/// LMO on `threads` threads above.
pub(super) fn pi_combinatorial(n: u64, threads: Option<usize>) -> u64 {
    if n < LMO_FROM {
        pi::meissel(n)
    } else {
        lmo::lmo(n, threads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_chunks_tile_the_range_in_whole_segments() {
        let seg = 30 * sieve::segment_bytes() as u64;
        for (lo, hi, t) in [
            (0, 10_000_000_000, 2),
            (0, 1_000_000_000, 2),
            (0, 1_000_000_000, 3),
            (12_345, 3_000_000_007, 4),
            (0, u64::MAX, 2),
        ] {
            let b = count_bounds(lo, hi, Some(t));
            assert_eq!(b[0].0, lo);
            assert_eq!(b[b.len() - 1].1, hi);
            assert!(b.windows(2).all(|w| w[0].1 == w[1].0 && w[0].0 < w[0].1));
            assert!(b[..b.len() - 1].iter().all(|&(a, z)| (z - a) % seg == 0));
            assert!(b.len() >= t && b.len() <= 1 << 16, "{} chunks", b.len());
        }
        // π(1e10) on two threads: about 100 chunks of about 1e8 numbers.
        let n = count_bounds(0, 10_000_000_000, Some(2)).len();
        assert!((50..=110).contains(&n), "{n} chunks");
        assert_eq!(count_bounds(0, 1000, Some(2)), vec![(0, 1000)]);
        assert_eq!(count_bounds(0, 1 << 40, Some(1)), vec![(0, 1 << 40)]);
    }

    #[test]
    fn counts_on_several_threads_equal_one_thread() {
        for n in [8_388_607, 8_388_608, 100_000_007, 123_456_789] {
            let one = count_sieve(n, 1);
            assert_eq!(count_sieve(n, 2), one, "{n}");
            assert_eq!(count_sieve(n, 3), one, "{n}");
        }
    }
}
