//! π(x) by Meissel's formula: π(x) = φ(x, a) + a − 1 − P2(x, a) with a = π(∛x).
//!
//! φ(x, a) (the numbers ≤ x with no prime factor among the first a primes) is a recursion cut
//! short three ways: a ≤ 6 by a periodic table over the primorial 30030; x < p_{a+1} is 1; and
//! p_{a+1}² > x is π(x) − a + 1 from a π table up to √x. P2 needs π(x/p) for the primes
//! p in (∛x, √x], all below x^(2/3), and gets them from one ascending segmented sieve pass.
//! Time is about x^(2/3) (the P2 sieve), memory O(√x) bits for the π table.

use super::sieve::{self, Segmented, WHEEL};

/// A π table up to `limit`: the wheel sieve's bits as u64 words and a running count per word.
pub(super) struct PiTable {
    limit: u64,
    /// Per word i of 240 numbers: its bits and π(240·i − 1), the primes before it, side by
    /// side so that a lookup touches one cache line.
    entries: Vec<(u64, u64)>,
}

/// `LE[r]`: how many wheel residues are ≤ r.
pub(super) const LE: [u32; 30] = {
    let mut t = [0u32; 30];
    let mut r = 0;
    while r < 30 {
        let mut k = 0;
        let mut c = 0;
        while k < 8 {
            if WHEEL[k] as usize <= r {
                c += 1;
            }
            k += 1;
        }
        t[r] = c;
        r += 1;
    }
    t
};

/// The set bits of a wheel bit array (`words`, 8 residues per byte, with `before[i]` the set
/// bits in the words before word `i`) that stand for numbers up to `v`.
#[inline]
fn count_up_to(words: &[u64], before: &[u32], v: u64) -> u32 {
    let byte = v / 30;
    let wi = (byte / 8) as usize;
    let bits = (byte % 8) as u32 * 8 + LE[(v % 30) as usize];
    let mask = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    before[wi] + (words[wi] & mask).count_ones()
}

impl PiTable {
    pub(super) fn new(limit: u64) -> Self {
        let mut words = Vec::with_capacity((limit / 240 + 2) as usize);
        let mut sieve = Segmented::new(0, limit + 1);
        while let Some((base, bits)) = sieve.next_segment() {
            // Segments are a whole number of words long except the last one.
            sieve::for_each_word(base, bits, 0, limit + 1, |_, w| words.push(w));
        }
        let mut entries = Vec::with_capacity(words.len());
        let mut acc = 3u64; // 2, 3 and 5 are not in the wheel.
        for &w in &words {
            entries.push((w, acc));
            acc += u64::from(w.count_ones());
        }
        Self { limit, entries }
    }

    /// π(v) for v ≤ limit.
    pub(super) fn pi(&self, v: u64) -> u64 {
        debug_assert!(v <= self.limit);
        if v < 7 {
            return [0, 0, 1, 2, 2, 3, 3][v as usize];
        }
        let byte = v / 30;
        let bits = (byte % 8) as u32 * 8 + LE[(v % 30) as usize];
        let (w, before) = self.entries[(byte / 8) as usize];
        // bits ≤ 64: shifting the complement keeps the low `bits` bits.
        let mask = u64::MAX.checked_shr(64 - bits).unwrap_or(0);
        before + u64::from((w & mask).count_ones())
    }

    /// The primes in `(lo, hi]` (hi ≤ limit), ascending.
    pub(super) fn primes_between(&self, lo: u64, hi: u64) -> Vec<u64> {
        let mut out = Vec::new();
        for (wi, &(w, _)) in self.entries.iter().enumerate() {
            let byte = wi as u64 * 8;
            if byte * 30 > hi {
                break;
            }
            if (byte + 8) * 30 <= lo {
                continue;
            }
            let mut w = w;
            while w != 0 {
                let n = sieve::number_at(byte, w.trailing_zeros());
                if n > lo && n <= hi {
                    out.push(n);
                }
                w &= w - 1;
            }
        }
        for p in [5, 3, 2] {
            if p > lo && p <= hi {
                out.insert(0, p);
            }
        }
        out
    }
}

/// φ(x, c) for c ≤ 6 through tables over the primorials 1, 2, 6, 30, 210, 2310, 30030.
pub(super) struct Tiny {
    tables: Vec<Vec<u32>>,
}

const TINY_PRIMES: [u64; 6] = [2, 3, 5, 7, 11, 13];

impl Tiny {
    pub(super) fn new() -> Self {
        let mut tables = vec![vec![0u32; 1]];
        let mut primorial = 1u64;
        for c in 1..=6 {
            primorial *= TINY_PRIMES[c - 1];
            let mut t = Vec::with_capacity(primorial as usize);
            let mut count = 0;
            for v in 0..primorial {
                if v > 0 && TINY_PRIMES[..c].iter().all(|p| v % p != 0) {
                    count += 1;
                }
                t.push(count);
            }
            tables.push(t);
        }
        Self { tables }
    }

    pub(super) fn phi(&self, x: u64, c: usize) -> u64 {
        if c == 0 {
            return x;
        }
        let t = &self.tables[c];
        let period = t.len() as u64;
        // φ over one full period is the table's last entry (period − 1 is coprime).
        (x / period) * u64::from(t[t.len() - 1]) + u64::from(t[(x % period) as usize])
    }
}

struct Meissel<'a> {
    primes: &'a [u64],
    table: &'a PiTable,
    tiny: &'a Tiny,
    cache: &'a PhiCache,
}

/// φ(y, b) for y below `CACHE_X` and 3 ≤ b ≤ `CACHE_A`: per b, the wheel sieve of [0, CACHE_X)
/// crossed by the first b primes, with a running count per word (primecount's phi cache).
/// Most leaves of the φ recursion are small, so this turns them into two lookups.
struct PhiCache {
    x_max: u64,
    levels: Vec<PiLevel>,
}

struct PiLevel {
    words: Vec<u64>,
    before: Vec<u32>,
}

const CACHE_X: u64 = 1 << 20;
const CACHE_A: usize = 40;

impl PhiCache {
    fn new(primes: &[u64], x_max: u64) -> Self {
        let x_max = x_max.min(CACHE_X);
        let n_words = x_max.div_ceil(240) as usize;
        // Level 3 (2, 3, 5 removed): every wheel bit set.
        let mut words = vec![u64::MAX; n_words];
        let mut levels = Vec::new();
        for b in 3..=CACHE_A.min(primes.len()) {
            if b > 3 {
                let p = primes[b - 1];
                // Clear every multiple p·q (q coprime to 30) below the limit, p included:
                // for each wheel residue r, the multiples p·(r + 30j) share one bit.
                for &r in &WHEEL {
                    let mut m = p * u64::from(r);
                    while m < x_max {
                        let bit = (m / 30 % 8) * 8 + u64::from(LE[(m % 30) as usize] - 1);
                        words[(m / 240) as usize] &= !(1u64 << bit);
                        m += 30 * p;
                    }
                }
            }
            let mut before = Vec::with_capacity(n_words);
            let mut acc = 0u32;
            for w in &words {
                before.push(acc);
                acc += w.count_ones();
            }
            levels.push(PiLevel {
                words: words.clone(),
                before,
            });
        }
        Self { x_max, levels }
    }

    /// φ(y, b) if cached.
    #[inline]
    fn get(&self, y: u64, b: usize) -> Option<u64> {
        if y >= self.x_max || b < 3 {
            return None;
        }
        let level = self.levels.get(b - 3)?;
        Some(u64::from(count_up_to(&level.words, &level.before, y)))
    }
}

impl Meissel<'_> {
    /// φ(x, a): how many of 1..=x have no prime factor among the first `a` primes.
    fn phi(&self, x: u64, a: usize) -> u64 {
        if a <= 6 {
            return self.tiny.phi(x, a);
        }
        if let Some(v) = self.cache.get(x, a) {
            return v;
        }
        let next = self.primes[a];
        if x < next {
            return u64::from(x >= 1);
        }
        if x <= self.table.limit && u128::from(next) * u128::from(next) > u128::from(x) {
            return self.table.pi(x) + 1 - a as u64;
        }
        let mut sum = self.tiny.phi(x, 6);
        for i in 6..a {
            let p = self.primes[i];
            let xp = x / p;
            if xp < p {
                // φ(x/p_j, j − 1) = 1 for this and every later j.
                sum -= (a - i) as u64;
                break;
            }
            sum -= self.phi(xp, i);
        }
        sum
    }
}

/// The largest π table beyond √x (numbers): 2^23 takes 280 KB of bits and 140 KB of counts,
/// so with the φ cache (at most 2 MB) π(1e12) works in about 6.5 MB; only √x itself (the
/// primes up to it and their quotients) grows with x: ~10 MB at 1e13, ~20 MB at 1e14.
const TABLE_CAP: u64 = 1 << 23;

/// ⌊∛x⌋ for any `u64`.
pub(super) fn icbrt(x: u64) -> u64 {
    let mut cube = (x as f64).cbrt() as u64;
    // checked_pow: 2642246^3 (∛(2^64) rounded up, cubed) does not fit in a u64.
    while (cube + 1).checked_pow(3).is_some_and(|c| c <= x) {
        cube += 1;
    }
    while cube.checked_pow(3).is_none_or(|c| c > x) {
        cube -= 1;
    }
    cube
}

/// π(x) by Meissel's formula.
pub(crate) fn meissel(x: u64) -> u64 {
    if x < 1_000_000 {
        // One sieve, no threads: 2, 3 and 5, then the wheel's primes.
        return [2, 3, 5].into_iter().filter(|&p| p <= x).count() as u64
            + sieve::count_range(0, x + 1);
    }
    let root = x.isqrt();
    let cube = icbrt(x);
    // The π table answers φ(y, b) = π(y) − b + 1 for every y ≤ its limit with p_{b+1}² > y,
    // which cuts most of φ's recursion; past √x it costs 1 bit per 30 numbers plus counts,
    // so it grows towards x^(2/3) (which also answers all of P2) up to TABLE_CAP.
    let two_thirds = x / cube;
    let limit = root.max(two_thirds.min(TABLE_CAP));
    let table = PiTable::new(limit);
    let small = table.primes_between(0, cube);
    let a = small.len();
    let tiny = Tiny::new();
    // primes[a] must exist for the cut-offs: append the next prime above ∛x.
    let mut primes = small;
    let next = table.primes_between(cube, root.min(table.limit));
    if let Some(&p) = next.first() {
        primes.push(p);
    }
    // Sized to the work: the cache pays off from about x = 1e11 on.
    let cache = PhiCache::new(&primes, root.max(cube * cube / 64));
    let m = Meissel {
        primes: &primes,
        table: &table,
        tiny: &tiny,
        cache: &cache,
    };
    let phi = m.phi(x, a);
    // P2 = Σ over primes p_i in (∛x, √x] of π(x/p_i) − (i − 1), i the 1-based index of p_i.
    let queries: Vec<u64> = next.iter().rev().map(|&p| x / p).collect();
    let pis = if queries.last().is_some_and(|&q| q <= table.limit) {
        queries.iter().map(|&q| table.pi(q)).collect()
    } else {
        pi_many(&queries)
    };
    let mut p2 = 0u64;
    for (j, pi) in pis.iter().rev().enumerate() {
        let i = (a + j + 1) as u64;
        p2 += pi + 1 - i;
    }
    phi + a as u64 - 1 - p2
}

/// π(v) for every v of an ascending list, by one segmented sieve pass up to the largest.
fn pi_many(queries: &[u64]) -> Vec<u64> {
    let Some(&max) = queries.last() else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(queries.len());
    let mut q = 0;
    let mut below = 3u64; // primes counted before the current segment (2, 3, 5 included).
    let mut sieve = Segmented::new(0, max + 1);
    while let Some((base, bits)) = sieve.next_segment() {
        let seg_end = (base + bits.len() as u64) * 30;
        let mut word_starts = Vec::new();
        let mut acc = below;
        sieve::for_each_word(base, bits, 0, max + 1, |byte, w| {
            word_starts.push((byte, acc, w));
            acc += u64::from(w.count_ones());
        });
        while q < queries.len() && queries[q] < seg_end {
            let v = queries[q];
            out.push(if v < 7 {
                [0, 0, 1, 2, 2, 3, 3][v as usize]
            } else {
                let byte = v / 30;
                let wi = ((byte - base) / 8) as usize;
                let (wbyte, before, w) = word_starts[wi];
                let bits = (byte - wbyte) as u32 * 8 + LE[(v % 30) as usize];
                let mask = if bits >= 64 {
                    u64::MAX
                } else {
                    (1u64 << bits) - 1
                };
                before + u64::from((w & mask).count_ones())
            });
            q += 1;
        }
        below = acc;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_phi_matches_counting() {
        let tiny = Tiny::new();
        for c in 0..=6 {
            for x in [0u64, 1, 2, 29, 30, 31, 209, 30029, 30030, 30031, 100_000] {
                let want = (1..=x)
                    .filter(|v| TINY_PRIMES[..c].iter().all(|p| v % p != 0))
                    .count() as u64;
                assert_eq!(tiny.phi(x, c), want, "phi({x}, {c})");
            }
        }
    }

    #[test]
    fn pi_table_and_meissel_agree_with_the_sieve() {
        let table = PiTable::new(100_000);
        let mut count = 0;
        for v in 0..=100_000u64 {
            if super::super::is_prime(v) {
                count += 1;
            }
            assert_eq!(table.pi(v), count, "{v}");
        }
        for x in [
            1_000_000u64,
            1_000_001,
            2_000_003,
            10_000_000,
            123_456_789,
            1 << 30,
        ] {
            assert_eq!(meissel(x), super::super::count_sieve(x, 1), "{x}");
        }
    }

    #[test]
    fn integer_cube_roots_up_to_u64_max() {
        for (x, want) in [
            (0u64, 0u64),
            (7, 1),
            (8, 2),
            (26, 2),
            (27, 3),
            (2_642_245u64.pow(3) - 1, 2_642_244),
            (2_642_245u64.pow(3), 2_642_245),
            (u64::MAX, 2_642_245),
        ] {
            assert_eq!(icbrt(x), want, "{x}");
        }
    }
}
