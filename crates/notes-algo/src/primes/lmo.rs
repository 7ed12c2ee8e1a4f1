//! π(x) by the Lagarias–Miller–Odlyzko method with Deléglise and Rivat's split of the special
//! leaves, in memory O(y) with y ≈ α·∛x.
//!
//! π(x) = φ(x, a) + a − 1 − P2(x, a) with a = π(y) and y ≥ ∛x (so no number ≤ x has three
//! prime factors above y). φ(x, a) splits into the ordinary leaves
//! S1 = Σ μ(n) φ(x/n, c) over the square-free n ≤ y whose prime factors all exceed p_c (φ for
//! c ≤ 6 is a table lookup) and the special leaves
//! S2 = −Σ μ(m) φ(x/(p_b m), b − 1) over c < b < a and the square-free m ≤ y < p_b m whose
//! prime factors all exceed p_b. With z = x/y:
//! - the easy leaves (p_b > √y, m = q a prime with p_b·q > z): their argument v is below
//!   y < p_b², so φ(v, b − 1) = π(v) − b + 2 from a π table up to y (1 when v < p_b: the
//!   trivial leaves, counted at once), no sieve ([`s2_easy`]);
//! - the hard leaves (the rest, all with argument in [1, z)) come from one segmented sieve of
//!   [1, z): in each segment, for b = c + 1, c + 2, … the leaves of p_b are counted (popcount
//!   of the bit sieve up to x/(p_b m), plus the count of earlier segments) and then the
//!   multiples of p_b are crossed off; p_b never exceeds √z.
//!
//! P2 (the numbers ≤ x with two prime factors above y) needs π(x/p) for the primes p in
//! (y, √x]: those primes come from short descending sieves and π(x/p) from one ascending
//! segmented count up to z.
//!
//! Memory: the primes up to y (4 bytes each), μ and the least prime factor (capped above √y)
//! of the numbers ≤ y coprime to 30 (2 bytes each, so 0.53 y bytes), a π table up to y
//! (y/15 bytes), per worker one sieve segment and a sieve position and φ count per prime up
//! to √z (24 bytes each), and the crate sieve's state for P2. y is capped at [`Y_CAP`] (∛x is
//! 2.6e6 at 2^64), so a count never needs more than a few MB. Time grows
//! like x^(2/3) / log x.
//!
//! Threads: S2's segments go out in ascending runs, sized by the time per segment the last run
//! measured (primecount's load balancing); each run counts its leaves from its own start and
//! returns, per b, its unsieved numbers and the signed count of its leaves, from which the
//! runs are stitched together exactly in order. The easy leaves go out one b at a time. P2's
//! quotients are cut into pieces counted the same way.
//!
//! This follows primecount's `src/lmo/` and `src/deleglise-rivat/` (Kim Walisch), written from
//! the papers (Lagarias, Miller, Odlyzko, "Computing π(x): the Meissel–Lehmer method", 1985;
//! Deléglise, Rivat, "Computing π(x): the Meissel, Lehmer, Lagarias, Miller, Odlyzko method",
//! 1996) and primecount's documentation.

use std::sync::OnceLock;

use super::pi::{PiTable, Tiny, icbrt};
use super::sieve::{self, Segmented};

/// The largest y (∛x stays below it up to 2^64): it bounds the tables, about 3.7 MB at 2^22.
const Y_CAP: u64 = 1 << 22;

/// φ(x, c) for c ≤ 6, built once.
fn tiny() -> &'static Tiny {
    static TINY: OnceLock<Tiny> = OnceLock::new();
    TINY.get_or_init(Tiny::new)
}

/// y = α·∛x, at least ∛x, at most max(∛x, [`Y_CAP`]) and at most √x.
fn choose_y(x: u64) -> u64 {
    let cube = icbrt(x);
    let mut y = (cube as f64 * alpha(x)) as u64;
    y = y.min(Y_CAP.max(cube)).max(cube);
    // P2 counts up to x/y with the crate's sieve, exact below 2^44.
    y = y.max(x >> 44);
    y.min(x.isqrt()).max(2)
}

/// The tuning factor α of y = α·∛x: a larger y moves work from the sieve of [1, x/y) (the
/// hard leaves) to the easy leaves (π table lookups, about π(y)·π(∛x) of them). Measured on
/// one core: flat from 2 to 3 at 1e13, best near 3.5 at 1e14 and from 4 to 6 at 1e15 (1.5 to
/// 12 tried), so it grows like log x, as primecount's does (primecount's Deléglise–Rivat
/// picks 13.8 at 1e15, where its easy leaves take twice as long as its hard ones).
fn alpha(x: u64) -> f64 {
    let ln = (x as f64).ln();
    (2.5 + 0.54 * (ln - 29.9)).max(2.0)
}

/// π(x) by LMO, for any x (below 64 by a list), on `threads` threads (`None`: rayon's pool).
pub(crate) fn lmo(x: u64, threads: Option<usize>) -> u64 {
    if x < 64 {
        return [
            2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61,
        ]
        .iter()
        .filter(|&&p| p <= x)
        .count() as u64;
    }
    lmo_with_y(x, choose_y(x), threads)
}

/// π(x) for x ≥ 64 with a given y in [∛x, √x] (x/y below 2^44): every such y gives the same
/// count, with the work split differently between the sieve and the π table.
fn lmo_with_y(x: u64, y: u64, threads: Option<usize>) -> u64 {
    let table = PiTable::new(y);
    let a = table.pi(y);
    // P2 first: its sieve's state is freed before S2's tables are built.
    let workers = worker_count(threads);
    let p2 = p2(x, y, a, workers, threads);
    // 1-based: primes[1] = 2.
    let mut primes: Vec<u32> = vec![0];
    primes.extend(table.primes_between(0, y).iter().map(|&p| p as u32));
    let c = 6.min(primes.len() - 1);
    let s1 = s1(x, y, &primes, c);
    let mu_lpf = MuLpf::new(y, &primes);
    let recip = reciprocals(&primes, prime_after(y));
    let s2 = s2(x, y, c, &primes, &table, &mu_lpf, &recip, workers, threads)
        .wrapping_add(s2_easy(x, y, c, &primes, &table, &recip, workers, threads));
    // Every sum is exact modulo 2^64 and π(x) < 2^64, so wrapping arithmetic is exact.
    s1.wrapping_add(s2)
        .wrapping_add(a)
        .wrapping_sub(1)
        .wrapping_sub(p2)
}

/// The ordinary leaves: Σ μ(n) φ(x/n, c) over square-free n ≤ y with every prime factor
/// above p_c (n = 1 included), modulo 2^64.
fn s1(x: u64, y: u64, primes: &[u32], c: usize) -> u64 {
    fn walk(x: u64, y: u64, primes: &[u32], c: usize, from: usize, n: u64, neg: bool) -> u64 {
        let mut sum = 0u64;
        for (i, &p) in primes.iter().enumerate().skip(from) {
            let m = n * u64::from(p);
            if m > y {
                break;
            }
            let v = tiny().phi(x / m, c);
            // μ(m) = −μ(n).
            sum = if neg {
                sum.wrapping_add(v)
            } else {
                sum.wrapping_sub(v)
            };
            sum = sum.wrapping_add(walk(x, y, primes, c, i + 1, m, !neg));
        }
        sum
    }
    tiny()
        .phi(x, c)
        .wrapping_add(walk(x, y, primes, c, c + 1, 1, false))
}

/// μ(m)·min(lpf(m), [`LPF_CAP`]) for the m ≤ y coprime to 30 (0 when m is not square-free;
/// lpf(1) = ∞), two bytes per 30/8 numbers. S2 only asks whether lpf(m) > p for p ≤ √y, and
/// √y < `LPF_CAP`, so the cap loses nothing.
struct MuLpf {
    t: Vec<i16>,
}

const LPF_CAP: u64 = i16::MAX as u64;

/// The index of a residue mod 30 among the eight coprime ones, 8 for the others.
const WHEEL_INDEX: [u8; 30] = {
    let mut t = [8u8; 30];
    let mut k = 0;
    while k < 8 {
        t[sieve::WHEEL[k] as usize] = k as u8;
        k += 1;
    }
    t
};

impl MuLpf {
    fn new(y: u64, primes: &[u32]) -> Self {
        let len = (y / 30 + 1) as usize * 8;
        debug_assert!(y.isqrt() < LPF_CAP);
        let mut t = vec![i16::MAX; len];
        // Descending, so the last prime to touch m is its least prime factor.
        for &p in primes[1..].iter().rev() {
            let p = u64::from(p);
            if p < 7 {
                break;
            }
            let mut k = 1;
            while p * k <= y {
                if let Some(i) = Self::index(p * k) {
                    let v = t[i];
                    let q = p.min(LPF_CAP) as i16;
                    t[i] = if v > 0 { -q } else { q };
                }
                k += 1;
            }
        }
        for &p in &primes[1..] {
            let p = u64::from(p);
            if p * p > y {
                break;
            }
            if p < 7 {
                continue;
            }
            let mut m = p * p;
            while m <= y {
                if let Some(i) = Self::index(m) {
                    t[i] = 0;
                }
                m += p * p;
            }
        }
        Self { t }
    }

    #[inline]
    fn index(m: u64) -> Option<usize> {
        let r = WHEEL_INDEX[(m % 30) as usize];
        (r < 8).then(|| (m / 30) as usize * 8 + r as usize)
    }

    /// μ(m)·min(lpf(m), [`LPF_CAP`]), or 0 when m is not square-free or shares a factor
    /// with 30.
    #[inline]
    fn get(&self, m: u64) -> i32 {
        Self::index(m).map_or(0, |i| i32::from(self.t[i]))
    }
}

/// Words (of 240 numbers: 8 wheel bytes) per S2 sieve segment: about √limit numbers, at least
/// 16 KiB and at most 64 KiB of bits (so the segment stays in L1/L2 while every prime crosses it).
fn segment_words(limit: u64) -> usize {
    let want = (limit.isqrt() / 240 + 1).next_power_of_two();
    want.clamp(1 << 11, 1 << 13) as usize
}

/// The wheel gaps: `WHEEL[k] + GAP[k]` is the next residue coprime to 30.
const GAP: [u64; 8] = [6, 4, 2, 4, 2, 4, 6, 2];

/// The bit index in a segment starting at `low` (a multiple of 30) of `n` coprime to 30.
#[inline(always)]
fn bit_of(n: u64, low: u64) -> usize {
    let d = n - low;
    (d / 30) as usize * 8 + WHEEL_INDEX[(d % 30) as usize] as usize
}

/// How many bits of a segment starting at `low` stand for numbers ≤ `v` (v ≥ low).
#[inline(always)]
fn bits_upto(v: u64, low: u64) -> usize {
    let d = v - low;
    (d / 30) as usize * 8 + super::pi::LE[(d % 30) as usize] as usize
}

/// Set bits of `w` in the bit range `[start, stop)`.
#[inline(always)]
fn count_bits(w: &[u64], start: usize, stop: usize) -> u64 {
    if start >= stop {
        return 0;
    }
    let (ws, we) = (start / 64, (stop - 1) / 64);
    let lo = !0u64 << (start % 64);
    let hi = !0u64 >> (63 - (stop - 1) % 64);
    if ws == we {
        return u64::from((w[ws] & lo & hi).count_ones());
    }
    let mut c = u64::from((w[ws] & lo).count_ones());
    // Four sums, so that the popcounts do not wait on one another (and vectorize where the
    // CPU has a vector popcount).
    let mid = &w[ws + 1..we];
    let mut sums = [0u64; 4];
    let chunks = mid.chunks_exact(4);
    for v in chunks.remainder() {
        c += u64::from(v.count_ones());
    }
    for four in chunks {
        for (s, v) in sums.iter_mut().zip(four) {
            *s += u64::from(v.count_ones());
        }
    }
    c + sums.iter().sum::<u64>() + u64::from((w[we] & hi).count_ones())
}

/// A sieving prime's next multiple p·q to cross off (q coprime to 30, starting at q = 1): its
/// wheel byte ⌊p·q / 30⌋ times 8 plus the wheel index of q, in one word (8 bytes a prime).
#[derive(Clone, Copy)]
struct Next(u64);

impl Next {
    fn new(byte: u64, k: usize) -> Self {
        Self(byte << 3 | k as u64)
    }
}

/// `WHEEL[k]` for k in 0..=8, with 31 (the next turn's 1) at the end.
const R: [u64; 9] = [1, 7, 11, 13, 17, 19, 23, 29, 31];

/// Crosses off the multiples p·q (q coprime to 30) in the bytes `[low_byte, end_byte)` of the
/// wheel, from `next` on, keeping `count` (the set bits) up to date. A turn of the wheel (q → q + 30) moves p bytes on and clears the same
/// eight bits, at byte offsets ⌊p·r/30⌋ − ⌊p/30⌋ for the residues r: whole turns are unrolled.
#[inline(always)]
fn cross_off(
    words: &mut [u64],
    p: u64,
    next: &mut Next,
    low_byte: u64,
    end_byte: u64,
    count: &mut u64,
) {
    // Clears bit i and takes it off the count if it was set.
    let mut clear = |i: u64| {
        let w = &mut words[(i / 64) as usize];
        *count -= (*w >> (i % 64)) & 1;
        *w &= !(1u64 << (i % 64));
    };
    let s = p % 30;
    let (mut byte, mut k) = (next.0 >> 3, (next.0 & 7) as usize);
    // The bit of p·q in its byte depends only on p mod 30 and q mod 30.
    let bit = |k: usize| u64::from(WHEEL_INDEX[(s * R[k] % 30) as usize]);
    let step = |k: usize| p * R[k + 1] / 30 - p * R[k] / 30;
    while k != 0 && byte < end_byte {
        let i = (byte - low_byte) * 8 + bit(k);
        clear(i);
        byte += step(k);
        k = (k + 1) & 7;
    }
    if k == 0 {
        // Bit offsets of the turn's eight multiples from the turn's first byte.
        let off: [u64; 8] = std::array::from_fn(|j| (p * R[j] / 30 - p / 30) * 8 + bit(j));
        // p·R[7]/30 − p/30 < p: a whole turn fits when byte + p ≤ end_byte.
        while byte + p <= end_byte {
            let base = (byte - low_byte) * 8;
            for o in off {
                let i = base + o;
                clear(i);
            }
            byte += p;
        }
        while byte < end_byte {
            let i = (byte - low_byte) * 8 + bit(k);
            clear(i);
            byte += step(k);
            k = (k + 1) & 7;
        }
    }
    *next = Next::new(byte, k);
}

/// The wheel bytes with the multiples of 7, 11 and 13 cleared, repeating every 1001 bytes,
/// long enough to copy one segment from any offset.
fn presieve_pattern(segment_bytes: usize) -> Vec<u8> {
    let len = 1001 + segment_bytes;
    let mut bytes = vec![0xFFu8; len];
    for p in [7u64, 11, 13] {
        let mut q = 1u64;
        let mut k = 0;
        while p * q < len as u64 * 30 {
            let i = bit_of(p * q, 0);
            bytes[i / 8] &= !(1u8 << (i % 8));
            q += GAP[k];
            k = (k + 1) & 7;
        }
    }
    bytes
}

/// How many workers a count may use: 1 without the `parallel` feature.
fn worker_count(threads: Option<usize>) -> usize {
    #[cfg(feature = "parallel")]
    return threads.unwrap_or_else(rayon::current_num_threads).max(1);
    #[cfg(not(feature = "parallel"))]
    {
        let _ = threads;
        1
    }
}

/// Runs `worker` on `workers` threads of rayon (a pool of `threads` when given) and waits for
/// all of them; on the calling thread when there is one worker or no threads can be had.
fn run_workers(workers: usize, threads: Option<usize>, worker: &(dyn Fn() + Sync)) {
    #[cfg(feature = "parallel")]
    if workers > 1 {
        let spawn = || {
            rayon::scope(|scope| {
                for _ in 0..workers {
                    scope.spawn(|_| worker());
                }
            });
        };
        match threads {
            None => spawn(),
            Some(t) => match rayon::ThreadPoolBuilder::new().num_threads(t).build() {
                Ok(pool) => pool.install(spawn),
                Err(_) => worker(),
            },
        }
        return;
    }
    let _ = (workers, threads);
    worker();
}

/// What S2's sieve needs in every segment, shared by the workers.
struct S2Ctx<'a> {
    x: u64,
    y: u64,
    c: usize,
    primes: &'a [u32],
    table: &'a PiTable,
    mu_lpf: &'a MuLpf,
    recip: &'a [u64],
    pi_sqrty: usize,
    seg_words: usize,
    pattern: Vec<u8>,
}

/// One chunk's share of S2: its leaves counted from the chunk's start (`s2`), and per b the
/// numbers the chunk leaves unsieved by p_1 … p_(b−1) (`phi`) and the signed number of its
/// leaves of p_b (`mu_sum`): the leaves' true values add `mu_sum[b]` times the earlier chunks'
/// `phi[b]` (primecount's reconstruction of the per-thread φ counts).
struct S2Part {
    s2: u64,
    phi: Vec<u64>,
    mu_sum: Vec<i64>,
}

/// The special leaves, modulo 2^64: one chunk of segments after another, or chunks handed to
/// `workers` threads in the order of [1, z) and sized by measured time.
#[allow(clippy::too_many_arguments)]
fn s2(
    x: u64,
    y: u64,
    c: usize,
    primes: &[u32],
    table: &PiTable,
    mu_lpf: &MuLpf,
    recip: &[u64],
    workers: usize,
    threads: Option<usize>,
) -> u64 {
    let a = primes.len() - 1;
    if c < 6 || a <= c + 1 {
        // No special leaves (y < 17).
        return 0;
    }
    let limit = x / y + 1;
    let seg_words = segment_words(limit);
    let ctx = S2Ctx {
        x,
        y,
        c,
        primes,
        table,
        mu_lpf,
        recip,
        pi_sqrty: table.pi(y.isqrt()) as usize,
        seg_words,
        pattern: presieve_pattern(seg_words * 8),
    };
    let segments = limit.div_ceil(seg_words as u64 * 240);
    if workers <= 1 || segments < 4 {
        return s2_chunk(&ctx, 0, limit).s2;
    }
    let balancer = std::sync::Mutex::new(Balancer::new(segments, workers));
    let combiner = std::sync::Mutex::new(Combiner {
        waiting: std::collections::BTreeMap::new(),
        next: 0,
        phi: vec![0; a + 1],
        s2: 0,
    });
    let seg = seg_words as u64 * 240;
    let worker = || {
        loop {
            let Some((index, from, to)) = lock(&balancer).take() else {
                break;
            };
            let started = std::time::Instant::now();
            let part = s2_chunk(&ctx, from * seg, (to * seg).min(limit));
            lock(&balancer).measured(to - from, started.elapsed());
            lock(&combiner).add(index, part);
        }
    };
    run_workers(workers, threads, &worker);
    let combiner = combiner
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    debug_assert!(combiner.waiting.is_empty());
    combiner.s2
}

/// The smallest prime above `y`.
fn prime_after(y: u64) -> u64 {
    let mut p = y + 1;
    while !super::miller_rabin::is_prime_u64(p) {
        p += 1;
    }
    p
}

/// ⌊(2^64 − 1) / d⌋ for each prime d = `primes[i]` (index 0 a placeholder) and for `after`
/// at the end, for [`div_by`].
fn reciprocals(primes: &[u32], after: u64) -> Vec<u64> {
    let mut r = Vec::with_capacity(primes.len() + 1);
    r.push(0);
    r.extend(primes[1..].iter().map(|&p| u64::MAX / u64::from(p)));
    r.push(u64::MAX / after);
    r
}

/// ⌊n / d⌋ from `m` = ⌊(2^64 − 1) / d⌋ (d ≥ 2): the high half of n·m is at most the quotient
/// and less than 2 below it, and the remainder corrects it (a multiplication instead of a
/// 64-bit division, for the quotients by the primes up to y).
#[inline(always)]
fn div_by(n: u64, d: u64, m: u64) -> u64 {
    let mut q = ((u128::from(n) * u128::from(m)) >> 64) as u64;
    let mut r = n - q * d;
    while r >= d {
        q += 1;
        r -= d;
    }
    q
}

/// The easy and trivial special leaves, modulo 2^64: for p_b > √y the leaves
/// φ(x/(p_b q), b − 1) with q prime, p_b < q ≤ y and p_b·q > z = x/y, whose argument
/// v = x/(p_b q) is below y < p_b², so φ(v, b − 1) = π(v) − b + 2 from the π table (1 when
/// v < p_b, the trivial leaves, counted at once). No sieve: Deléglise and Rivat's split
/// (primecount's `S2_easy` and `S2_trivial`). Successive q with the same π(v) (the
/// clustered easy leaves, q > √(x/p_b)) are summed in one step: all q in
/// (x/(p_b·p_(π(v)+1)), q] share it.
#[allow(clippy::too_many_arguments)]
fn s2_easy(
    x: u64,
    y: u64,
    c: usize,
    primes: &[u32],
    table: &PiTable,
    recip: &[u64],
    workers: usize,
    threads: Option<usize>,
) -> u64 {
    let a = primes.len() - 1;
    let pi_sqrty = table.pi(y.isqrt()) as usize;
    let first = c.max(pi_sqrty) + 1;
    if first >= a {
        return 0;
    }
    let z = x / y;
    // primes[a + 1], the prime after y, closes the last cluster.
    let after = prime_after(y);
    let prime = |i: usize| {
        if i <= a { u64::from(primes[i]) } else { after }
    };
    let pi = |v: u64| table.pi(v) as usize;
    let leaves_of = |b: usize| -> u64 {
        let p = u64::from(primes[b]);
        let xp = x / p;
        let div = |i: usize| div_by(xp, prime(i), recip[i]);
        // Leaves q in (lo, y]; trivial from above min(x/p², y) on, where v < p.
        let lo = p.max(z / p);
        if lo >= y {
            return 0;
        }
        let trivial_from = lo.max((xp / p).min(y));
        let mut sum = (a - pi(trivial_from)) as u64;
        let b2 = b as u64 - 2;
        let i = pi(trivial_from);
        let i_lo = pi(lo);
        // Clustered: q > √(x/p) (v < q), the indices (i_cl, i]; from both ends at once, so
        // that the two dependency chains overlap.
        let i_cl = pi(xp.isqrt().clamp(lo, trivial_from));
        let (mut hi, mut lo_i) = (i, i_cl + 1);
        while lo_i <= hi {
            let pi_v = pi(div(hi));
            let hi_min = pi(div(pi_v + 1)).max(lo_i - 1);
            sum = sum.wrapping_add((pi_v as u64 - b2).wrapping_mul((hi - hi_min) as u64));
            hi = hi_min;
            if lo_i > hi {
                break;
            }
            let pi_v = pi(div(lo_i));
            let lo_max = (pi(div(pi_v)) + 1).min(hi + 1);
            sum = sum.wrapping_add((pi_v as u64 - b2).wrapping_mul((lo_max - lo_i) as u64));
            lo_i = lo_max;
        }
        // Sparse: every q its own π(v), four at a time.
        let mut i = i_cl;
        let mut parts = [0u64; 4];
        while i >= i_lo + 4 {
            for (k, part) in parts.iter_mut().enumerate() {
                *part += pi(div(i - k)) as u64;
            }
            i -= 4;
        }
        while i > i_lo {
            parts[0] += pi(div(i)) as u64;
            i -= 1;
        }
        let sparse = parts.iter().fold(0u64, |s, &v| s.wrapping_add(v));
        sum = sum
            .wrapping_add(sparse)
            .wrapping_sub(b2.wrapping_mul((i_cl - i_lo) as u64));
        sum
    };
    if workers <= 1 {
        return (first..a).fold(0u64, |s, b| s.wrapping_add(leaves_of(b)));
    }
    // Work per b falls as b grows: hand the b out one by one.
    let next = std::sync::atomic::AtomicUsize::new(first);
    let total = std::sync::atomic::AtomicU64::new(0);
    let worker = || {
        let mut sum = 0u64;
        loop {
            let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if b >= a {
                break;
            }
            sum = sum.wrapping_add(leaves_of(b));
        }
        total.fetch_add(sum, std::sync::atomic::Ordering::Relaxed);
    };
    run_workers(workers, threads, &worker);
    total.into_inner()
}

/// Locks a mutex, ignoring poison (a worker that panicked has already failed the count).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Hands out runs of S2 segments in ascending order, each sized so that it takes about a
/// target time by the time per segment measured on the last run (primecount's S2 load
/// balancer): the dense first segments go out one by one, the cheap later ones in long runs,
/// and no run is so long that one thread finishes far after the others.
struct Balancer {
    next: u64,
    segments: u64,
    index: usize,
    per_run: u64,
    workers: u32,
    started: std::time::Instant,
}

impl Balancer {
    fn new(segments: u64, workers: usize) -> Self {
        Self {
            next: 0,
            segments,
            index: 0,
            per_run: 1,
            workers: workers.min(1024) as u32,
            started: std::time::Instant::now(),
        }
    }

    /// The next run: its index and its segments `[from, to)`.
    fn take(&mut self) -> Option<(usize, u64, u64)> {
        if self.next >= self.segments {
            return None;
        }
        let from = self.next;
        // Never more than an even share of what is left, so the last runs stay short.
        let share = (self.segments - from).div_ceil(u64::from(self.workers) * 2);
        let to = (from + self.per_run.min(share).max(1)).min(self.segments);
        self.next = to;
        self.index += 1;
        Some((self.index - 1, from, to))
    }

    /// A run of `segments` took `took`: size the next ones for the target time, an eighth
    /// of the time so far per worker (at least 10 ms, at most 1 s), growing at most 4× a run.
    fn measured(&mut self, segments: u64, took: std::time::Duration) {
        let target = (self.started.elapsed() / (8 * self.workers)).clamp(
            std::time::Duration::from_millis(10),
            std::time::Duration::from_secs(1),
        );
        let per_segment = took.as_secs_f64() / segments.max(1) as f64;
        let want = if per_segment > 0.0 {
            (target.as_secs_f64() / per_segment) as u64
        } else {
            u64::MAX
        };
        self.per_run = want.clamp(1, segments.saturating_mul(4).max(1));
    }
}

/// Folds the chunks' parts into S2 in the order of their segments, whatever order they finish in.
struct Combiner {
    waiting: std::collections::BTreeMap<usize, S2Part>,
    next: usize,
    /// Per b, the unsieved numbers of all chunks folded so far.
    phi: Vec<u64>,
    s2: u64,
}

impl Combiner {
    fn add(&mut self, index: usize, part: S2Part) {
        self.waiting.insert(index, part);
        while let Some(part) = self.waiting.remove(&self.next) {
            let mut s2 = self.s2.wrapping_add(part.s2);
            for (b, (&mu, &phi)) in part.mu_sum.iter().zip(&part.phi).enumerate() {
                s2 = s2.wrapping_add((mu as u64).wrapping_mul(self.phi[b]));
                self.phi[b] = self.phi[b].wrapping_add(phi);
            }
            self.s2 = s2;
            self.next += 1;
        }
    }
}

/// The first multiple p·q ≥ `low` with q ≥ 1 coprime to 30, as a [`Next`].
fn first_multiple(p: u64, low: u64) -> Next {
    let q = low.div_ceil(p).max(1);
    let r = q % 30;
    // The residues coprime to 30 from r on; 31 is the next turn's 1.
    let up = R.iter().copied().find(|&w| w >= r).unwrap_or(31);
    let q = q - r + up;
    Next::new(p * q / 30, WHEEL_INDEX[(q % 30) as usize] as usize)
}

/// The special leaves of the segments of `[from, to)` (multiples of the segment size but the
/// last), counted from `from`.
fn s2_chunk(ctx: &S2Ctx<'_>, from: u64, to: u64) -> S2Part {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512vpopcntdq")
        && std::arch::is_x86_feature_detected!("avx512f")
    {
        // SAFETY: the CPU has AVX-512F and VPOPCNTDQ (and so POPCNT).
        #[allow(unsafe_code)]
        return unsafe { s2_chunk_avx512(ctx, from, to) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU has POPCNT.
        #[allow(unsafe_code)]
        return unsafe { s2_chunk_popcnt(ctx, from, to) };
    }
    s2_chunk_generic(ctx, from, to)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt,avx512f,avx512vpopcntdq")]
fn s2_chunk_avx512(ctx: &S2Ctx<'_>, from: u64, to: u64) -> S2Part {
    s2_chunk_generic(ctx, from, to)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn s2_chunk_popcnt(ctx: &S2Ctx<'_>, from: u64, to: u64) -> S2Part {
    s2_chunk_generic(ctx, from, to)
}

#[inline(always)]
fn s2_chunk_generic(ctx: &S2Ctx<'_>, from: u64, to: u64) -> S2Part {
    let S2Ctx {
        x,
        y,
        c,
        primes,
        table,
        mu_lpf,
        recip,
        pi_sqrty,
        seg_words,
        ref pattern,
    } = *ctx;
    let a = primes.len() - 1;
    let z = x / y;
    let seg = seg_words as u64 * 240;
    let mut words = vec![0u64; seg_words];
    // Sieve positions, set for each b the first time the chunk reaches it (every b a later
    // segment reaches, the first segment reached too: the bound on b falls as low grows).
    let mut next: Vec<Next> = Vec::with_capacity(a + 1);
    let mut phi: Vec<u64> = Vec::new();
    let mut mu_sum: Vec<i64> = Vec::new();
    let mut s2 = 0u64;
    let mut low = from;
    while low < to {
        let high = (low + seg).min(to);
        // Bit 8j + k is the number low + 30j + WHEEL[k] (low is a multiple of 30).
        let bits = bits_upto(high - 1, low);
        let n_words = ((high - low).div_ceil(30) as usize).div_ceil(8);
        let offset = ((low / 30) % 1001) as usize;
        for (w, chunk) in words[..n_words]
            .iter_mut()
            .zip(pattern[offset..].chunks_exact(8))
        {
            *w = u64::from_le_bytes([
                chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
            ]);
        }
        if low == 0 {
            // 1 stays (φ counts it); 7, 11 and 13 are crossed off with their multiples.
            words[0] |= 1;
        }
        if !bits.is_multiple_of(64) {
            words[bits / 64] &= (1u64 << (bits % 64)) - 1;
        }
        words[bits.div_ceil(64)..n_words].fill(0);
        let words = &mut words[..n_words];
        // The set bits of the segment, kept up to date by cross_off: what each b adds to phi.
        let mut total = count_bits(words, 0, bits);
        // Crossing off may touch bits of the last byte beyond high: they are never counted.
        let end_byte = (high - low).div_ceil(30) + low / 30;
        let mut b = c + 1;
        // Makes room for b's entries, starting its sieve at the chunk's first multiple.
        let reach = |b: usize, next: &mut Vec<Next>, phi: &mut Vec<u64>, mu: &mut Vec<i64>| {
            if next.len() <= b {
                next.resize(b + 1, Next(0));
                phi.resize(b + 1, 0);
                mu.resize(b + 1, 0);
                next[b] = first_multiple(u64::from(primes[b]), from);
            }
        };
        'segment: {
            // p_b ≤ √y: m is any square-free number with every prime factor above p_b.
            while b <= pi_sqrty && b < a {
                let p = u64::from(primes[b]);
                let min_m = (x / p / high).max(y / p);
                let max_m = (x / p).checked_div(low).map_or(y, |v| v.min(y));
                if p >= max_m {
                    break 'segment;
                }
                reach(b, &mut next, &mut phi, &mut mu_sum);
                let (mut start, mut count) = (0usize, 0u64);
                let before = phi[b];
                let mut m = max_m;
                let mut sign = 0i64;
                while m > min_m {
                    let t = mu_lpf.get(m);
                    if t != 0 && u64::from(t.unsigned_abs()) > p {
                        let stop = bits_upto(x / (p * m), low);
                        count += count_bits(words, start, stop);
                        start = stop;
                        let v = before + count;
                        if t > 0 {
                            s2 = s2.wrapping_sub(v);
                            sign -= 1;
                        } else {
                            s2 = s2.wrapping_add(v);
                            sign += 1;
                        }
                    }
                    m -= 1;
                }
                mu_sum[b] += sign;
                phi[b] = before + total;
                cross_off(words, p, &mut next[b], low / 30, end_byte, &mut total);
                b += 1;
            }
            // p_b > √y: m is a prime above p_b (μ(m) = −1).
            while b < a {
                let p = u64::from(primes[b]);
                let xp = x / p;
                // Leaves with p_b·q > z are easy ([`s2_easy`]): q ≤ z / p_b here.
                let max_m = xp.checked_div(low).map_or(y, |v| v.min(y)).min(z / p);
                let mut l = table.pi(max_m) as usize;
                if p >= u64::from(primes[l]) {
                    break 'segment;
                }
                reach(b, &mut next, &mut phi, &mut mu_sum);
                let min_m = (xp / high).max(y / p).max(p);
                let (mut start, mut count) = (0usize, 0u64);
                let before = phi[b];
                let mut leaves = 0i64;
                while u64::from(primes[l]) > min_m {
                    let stop = bits_upto(div_by(xp, u64::from(primes[l]), recip[l]), low);
                    count += count_bits(words, start, stop);
                    start = stop;
                    s2 = s2.wrapping_add(before + count);
                    leaves += 1;
                    l -= 1;
                }
                mu_sum[b] += leaves;
                phi[b] = before + total;
                cross_off(words, p, &mut next[b], low / 30, end_byte, &mut total);
                b += 1;
            }
        }
        low = high;
    }
    S2Part { s2, phi, mu_sum }
}

/// P2(x, a) = Σ (π(x/p) − π(p) + 1) over the primes p in (y, √x], modulo 2^64.
///
/// The quotients x/p run over [√x, x/y]; that range is cut into pieces, one per task, each
/// counted from its own start (π(x/p) − π(v₀ − 1) for the p whose quotient lies in the piece
/// [v₀, v₁)); the pieces' prime counts, summed in order, give the missing π(v₀ − 1).
fn p2(x: u64, y: u64, a: u64, workers: usize, threads: Option<usize>) -> u64 {
    let root = x.isqrt();
    if y >= root {
        return 0;
    }
    let top = x / (y + 1) + 1;
    // Quotients below x / root are never asked for: start the first piece there.
    let bottom = x / root;
    let span = top - bottom;
    let pieces = if workers <= 1 || span < 1 << 24 {
        1
    } else {
        (workers as u64 * 8).min(span >> 22)
    };
    let step = span.div_ceil(pieces).div_ceil(30) * 30;
    let bounds: Vec<(u64, u64)> = (0..pieces)
        .map(|i| (bottom + i * step, (bottom + (i + 1) * step).min(top)))
        .filter(|(lo, hi)| lo < hi)
        .collect();
    let results = std::sync::Mutex::new(vec![None; bounds.len()]);
    let task = std::sync::atomic::AtomicUsize::new(0);
    let worker = || {
        loop {
            let i = task.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&(lo, hi)) = bounds.get(i) else {
                break;
            };
            let piece = p2_piece(x, y, lo, hi);
            lock(&results)[i] = Some(piece);
        }
    };
    run_workers(workers.min(bounds.len()), threads, &worker);
    let results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // π(bottom − 1) for the first piece; then each piece's primes move the base on.
    let mut base = PiCounter::new(0, bottom).pi(bottom - 1);
    let (mut sum, mut n) = (0u64, 0u64);
    for piece in results {
        // Every task ran to its end unless a worker panicked, which rayon re-raises.
        let (local, primes, count) = piece.unwrap_or_default();
        sum = sum
            .wrapping_add(local)
            .wrapping_add(primes.wrapping_mul(base));
        n += primes;
        base += count;
    }
    // Σ (π(p) − 1) over the n primes after p_a: a + (a + 1) + … + (a + n − 1).
    let tail =
        (u128::from(n) * u128::from(a) + u128::from(n) * u128::from(n.max(1) - 1) / 2) as u64;
    sum.wrapping_sub(tail)
}

/// For the primes p in (y, √x] with x/p in `[lo, hi)`: Σ (π(x/p) − π(lo − 1)), how many
/// such p there are, and the primes in `[lo, hi)`.
fn p2_piece(x: u64, y: u64, lo: u64, hi: u64) -> (u64, u64, u64) {
    // x/p ≥ lo ⟺ p ≤ x/lo, and x/p < hi ⟺ p > x/hi.
    let p_max = (x / lo).min(x.isqrt());
    let p_min = (x / hi).max(y); // exclusive
    let mut counter = PiCounter::new(lo, hi - 1);
    let (mut sum, mut n) = (0u64, 0u64);
    let mut ps = Vec::new();
    let mut block_hi = p_max + 1;
    while block_hi > p_min + 1 {
        let block_lo = (p_min + 1).max(block_hi.saturating_sub(P2_BLOCK));
        ps.clear();
        ps.extend(
            [2u64, 3, 5]
                .into_iter()
                .filter(|&p| p >= block_lo && p < block_hi),
        );
        sieve::extend_range(block_lo, block_hi, &mut ps);
        for &p in ps.iter().rev() {
            sum = sum.wrapping_add(counter.pi(x / p));
        }
        n += ps.len() as u64;
        block_hi = block_lo;
    }
    (sum, n, counter.pi(hi - 1))
}

/// Numbers per descending block of P2's primes.
const P2_BLOCK: u64 = 1 << 20;

/// The primes in [lo, v] for non-decreasing v in [lo − 1, max], by one ascending segmented
/// sieve of [lo, max] (π(v) − π(lo − 1)).
struct PiCounter {
    sieve: Segmented,
    lo: u64,
    hi: u64,
    /// The current segment's words, starting at byte `base`; it ends before number `end`.
    words: Vec<u64>,
    base: u64,
    end: u64,
    /// Words already counted into `before`.
    done: usize,
    before: u64,
}

impl PiCounter {
    fn new(lo: u64, max: u64) -> Self {
        let sieve = Segmented::new(lo, max + 1);
        debug_assert_eq!(sieve.verify_from(), u128::MAX);
        Self {
            sieve,
            lo,
            hi: max + 1,
            words: Vec::new(),
            base: 0,
            end: 0,
            done: 0,
            // 2, 3 and 5 are not in the wheel.
            before: [2u64, 3, 5]
                .iter()
                .filter(|&&p| p >= lo && p <= max)
                .count() as u64,
        }
    }

    fn pi(&mut self, v: u64) -> u64 {
        if v < 7 || v < self.lo {
            // The wheel primes in [lo, v] (nothing when v < lo).
            return [2u64, 3, 5]
                .iter()
                .filter(|&&p| p >= self.lo && p <= v)
                .count() as u64;
        }
        while v >= self.end {
            self.before += self.words[self.done..]
                .iter()
                .map(|w| u64::from(w.count_ones()))
                .sum::<u64>();
            let Some((base, bits)) = self.sieve.next_segment() else {
                // v ≤ max: unreachable; answer what has been counted rather than panic.
                return self.before;
            };
            self.words.clear();
            let words = &mut self.words;
            let (lo, hi) = (self.lo, self.hi);
            sieve::for_each_word(base, bits, lo, hi, |_, w| words.push(w));
            self.base = base;
            self.end = (base + bits.len() as u64) * 30;
            self.done = 0;
        }
        let byte = v / 30;
        let wi = ((byte - self.base) / 8) as usize;
        while self.done < wi {
            self.before += u64::from(self.words[self.done].count_ones());
            self.done += 1;
        }
        let bits = ((byte - self.base) % 8) as u32 * 8 + super::pi::LE[(v % 30) as usize];
        let mask = if bits >= 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        self.before + u64::from((self.words[wi] & mask).count_ones())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pi_table(n: u64) -> Vec<u64> {
        let mut out = Vec::with_capacity(n as usize + 1);
        let mut count = 0;
        for v in 0..=n {
            if super::super::is_prime(v) {
                count += 1;
            }
            out.push(count);
        }
        out
    }

    #[test]
    fn every_small_x() {
        let pis = pi_table(100_000);
        // Every x up to 10^4, then a stride that still lands on every residue mod 30.
        for x in (0..=10_000u64).chain((10_001..=100_000).step_by(37)) {
            assert_eq!(lmo(x, Some(1)), pis[x as usize], "π({x})");
        }
    }

    #[test]
    fn y_keeps_the_formula_exact_and_the_memory_bounded() {
        for x in [
            64u64,
            1000,
            1 << 40,
            10u64.pow(18),
            u64::MAX - (1 << 24),
            u64::MAX,
        ] {
            let (y, cube) = (choose_y(x), icbrt(x));
            assert!(y >= cube.min(x.isqrt()) && y <= x.isqrt(), "{x}");
            assert!(y <= Y_CAP.max(cube), "{x}");
            // P2's count up to x/(y+1) stays where the crate's sieve is exact (below 2^44).
            assert!(x / (y + 1) < 1 << 44, "{x}");
            // p·m for p, m ≤ y fits in a u64.
            assert!(y.checked_mul(y).is_some(), "{x}");
        }
    }

    #[test]
    fn mu_lpf_matches_factoring() {
        let y = 100_000;
        let table = PiTable::new(y);
        let mut primes = vec![0u32];
        primes.extend(table.primes_between(0, y).iter().map(|&p| p as u32));
        let t = MuLpf::new(y, &primes);
        for m in 1..=y {
            if m % 2 == 0 || m % 3 == 0 || m % 5 == 0 {
                assert_eq!(t.get(m), 0);
                continue;
            }
            let (mut k, mut lpf, mut mu, mut d) = (m, 0u64, 1i32, 2u64);
            while k > 1 {
                if k % d == 0 {
                    if lpf == 0 {
                        lpf = d;
                    }
                    k /= d;
                    mu = if k % d == 0 { 0 } else { -mu };
                    if mu == 0 {
                        break;
                    }
                } else if d * d > k {
                    // k is a prime.
                    d = k;
                } else {
                    d += 1;
                }
            }
            let want = if m == 1 {
                i32::from(i16::MAX)
            } else {
                mu * lpf.min(LPF_CAP) as i32
            };
            assert_eq!(t.get(m), want, "{m}");
        }
    }

    #[test]
    fn threads_and_chunks_give_the_same_count() {
        // Known π(x) from 1e10 to 1e13, on 1, 2 and 3 workers: the chunks' φ counts and P2's
        // pieces are stitched back together exactly.
        for (x, pi) in [
            (10_000_000_000u64, 455_052_511u64),
            (123_456_789_012, 5_040_193_425), // primecount 7.6
            (1_000_000_000_000, 37_607_912_018),
            (10_000_000_000_000, 346_065_536_839),
        ] {
            for threads in [1, 2, 3] {
                assert_eq!(lmo(x, Some(threads)), pi, "π({x}) on {threads} threads");
            }
        }
        // π(1e14), in about a second on two threads.
        assert_eq!(lmo(100_000_000_000_000, Some(2)), 3_204_941_750_802);
    }

    #[test]
    fn threads_agree_with_one_thread_on_random_x() {
        // x in [1e11, 2e12): about 100 S2 segments and several P2 pieces each.
        let mut s = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..8 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let x = 100_000_000_000 + s % 1_900_000_000_000;
            assert_eq!(lmo(x, Some(2)), lmo(x, Some(1)), "π({x})");
        }
    }

    #[test]
    fn division_by_reciprocal_is_exact() {
        let mut s = 0x1234_5678_9ABC_DEF1u64;
        for d in [2u64, 3, 7, 13, 65_521, 4_194_301, u64::from(u32::MAX)] {
            let m = u64::MAX / d;
            for n in [
                0,
                1,
                d - 1,
                d,
                d + 1,
                u64::MAX,
                u64::MAX - 1,
                u64::MAX - d,
                1 << 63,
            ] {
                assert_eq!(div_by(n, d, m), n / d, "{n} / {d}");
            }
            for _ in 0..10_000 {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                assert_eq!(div_by(s, d, m), s / d, "{s} / {d}");
            }
        }
    }

    #[test]
    fn every_y_gives_the_same_count() {
        // From y = ∛x (almost every special leaf hard) to y near √x (almost all easy or
        // trivial): the split between the sieve and the π table moves, the count must not.
        for (x, pi) in [
            (1_000_000_000u64, 50_847_534u64),
            (123_456_789_012, 5_040_193_425),
            (1_000_000_000_000, 37_607_912_018),
        ] {
            let (cube, root) = (icbrt(x), x.isqrt());
            for y in [
                cube,
                cube + 1,
                2 * cube,
                5 * cube,
                13 * cube,
                root / 3,
                root,
            ] {
                let y = y.clamp(cube, root);
                for threads in [1, 2] {
                    assert_eq!(
                        lmo_with_y(x, y, Some(threads)),
                        pi,
                        "π({x}), y = {y}, {threads} threads"
                    );
                }
            }
        }
    }

    #[test]
    fn balancer_hands_out_every_segment_once_in_order() {
        let mut b = Balancer::new(1000, 2);
        let mut next = 0;
        let mut index = 0;
        while let Some((i, from, to)) = b.take() {
            assert_eq!((i, from), (index, next));
            assert!(to > from && to <= 1000);
            b.measured(
                to - from,
                std::time::Duration::from_micros(10 * (to - from)),
            );
            next = to;
            index += 1;
        }
        assert_eq!(next, 1000);
    }

    #[test]
    fn pi_counter_counts_from_its_start() {
        let pis = pi_table(20_000);
        for lo in [0u64, 1, 7, 29, 30, 31, 1000, 9999] {
            let mut counter = PiCounter::new(lo, 20_000);
            let below = if lo == 0 { 0 } else { pis[lo as usize - 1] };
            for v in (lo.saturating_sub(1)..=20_000).step_by(7) {
                assert_eq!(counter.pi(v), pis[v as usize] - below, "lo {lo} v {v}");
            }
        }
    }

    #[test]
    fn agrees_with_meissel_on_random_x() {
        // A fixed xorshift walk over x up to 1e10 (Meissel is checked against the sieve).
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..60 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let x = s % 10_000_000_000;
            assert_eq!(lmo(x, Some(1)), super::super::pi::meissel(x), "π({x})");
        }
        for x in [1_000_000u64, 1 << 32, 999_999_999_989, 1_000_000_000_000] {
            assert_eq!(lmo(x, Some(1)), super::super::pi::meissel(x), "π({x})");
        }
    }
}
