//! The segmented sieve of Eratosthenes over the mod-30 wheel.
//!
//! Byte `b` of a sieve holds the eight numbers `30 b + r` with `r` coprime to 30
//! ([`WHEEL`]), one bit each, so a byte covers 30 numbers and 2, 3 and 5 are never stored.
//! A segment is a run of bytes small enough to stay in the CPU cache; it is filled from a
//! pre-sieved pattern (7, 11, 13, 17 and 19 already crossed off), then each sieving prime
//! crosses off its multiples in eight streams, one per wheel residue of the cofactor: the
//! multiples `p q` with `q ≡ r (mod 30)` all land on the same bit, `p` bytes apart.
//!
//! Sieving primes are taken up to `min(√hi, SIEVE_LIMIT)`; above `SIEVE_LIMIT²` (about
//! 1.1e12) the survivors of a segment are confirmed with Miller–Rabin, which keeps the
//! memory of a sieve bounded (a few MB) however large the range is.

use std::sync::OnceLock;

use super::miller_rabin::is_prime_u64;

/// The residues coprime to 30, in bit order.
pub(crate) const WHEEL: [u8; 8] = [1, 7, 11, 13, 17, 19, 23, 29];

/// Bit index of each residue mod 30, or 8 when the residue shares a factor with 30.
const BIT_OF: [u8; 30] = {
    let mut t = [8u8; 30];
    let mut i = 0;
    while i < 8 {
        t[WHEEL[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Sieving primes stop here: primes up to 2^20 are 82,025 numbers, ~3 MB of sieve state.
pub(crate) const SIEVE_LIMIT: u32 = 1 << 20;

/// The pre-sieving primes and the period of their pattern in bytes (7·11·13·17·19).
const PRESIEVE: [u32; 5] = [7, 11, 13, 17, 19];
const PATTERN_LEN: usize = 7 * 11 * 13 * 17 * 19;

/// Bytes per segment: the L1 data cache when the CPU reports it, else 32 KiB.
pub(crate) fn segment_bytes() -> usize {
    static SIZE: OnceLock<usize> = OnceLock::new();
    *SIZE.get_or_init(|| {
        l1_data_cache()
            .unwrap_or(32 * 1024)
            .clamp(16 * 1024, 256 * 1024)
    })
}

/// The L1 data cache size from CPUID (leaf 4 on Intel, 0x8000_001D on AMD); no I/O.
#[cfg(target_arch = "x86_64")]
// `__cpuid_count` became a safe function in Rust 1.94; the MSRV (1.88) still needs `unsafe`.
#[allow(unused_unsafe)]
fn l1_data_cache() -> Option<usize> {
    use std::arch::x86_64::__cpuid_count;
    // SAFETY: CPUID exists on every x86_64 CPU; unknown leaves return zeros.
    let vendor = unsafe { __cpuid_count(0, 0) };
    let max_ext = unsafe { __cpuid_count(0x8000_0000, 0) }.eax;
    let leaf = if vendor.ebx == 0x6874_7541 && max_ext >= 0x8000_001D {
        0x8000_001D // "Auth"enticAMD
    } else if vendor.eax >= 4 {
        4
    } else {
        return None;
    };
    for sub in 0..8 {
        // SAFETY: as above.
        let r = unsafe { __cpuid_count(leaf, sub) };
        let kind = r.eax & 0x1f;
        if kind == 0 {
            break;
        }
        let level = (r.eax >> 5) & 0x7;
        if level == 1 && kind == 1 {
            let ways = ((r.ebx >> 22) & 0x3ff) as usize + 1;
            let partitions = ((r.ebx >> 12) & 0x3ff) as usize + 1;
            let line = (r.ebx & 0xfff) as usize + 1;
            let sets = r.ecx as usize + 1;
            return Some(ways * partitions * line * sets);
        }
    }
    None
}

#[cfg(not(target_arch = "x86_64"))]
fn l1_data_cache() -> Option<usize> {
    None
}

/// The primes below [`SIEVE_LIMIT`], computed once by a plain odd-only sieve.
pub(crate) fn small_primes() -> &'static [u32] {
    static PRIMES: OnceLock<Vec<u32>> = OnceLock::new();
    PRIMES.get_or_init(|| {
        let n = SIEVE_LIMIT as usize;
        let mut composite = vec![false; n / 2];
        let mut primes = vec![2];
        let mut i = 3;
        while i * i < n {
            if !composite[i / 2] {
                let mut j = i * i;
                while j < n {
                    composite[j / 2] = true;
                    j += 2 * i;
                }
            }
            i += 2;
        }
        primes.extend(
            (3..n)
                .step_by(2)
                .filter(|&i| !composite[i / 2])
                .map(|i| i as u32),
        );
        primes
    })
}

/// One period of the pre-sieve pattern: byte `b` has the bits of `30 b + r` that are
/// coprime to 7, 11, 13, 17 and 19.
fn pattern() -> &'static [u8] {
    static PATTERN: OnceLock<Vec<u8>> = OnceLock::new();
    PATTERN.get_or_init(|| {
        let mut pat = vec![0xffu8; PATTERN_LEN];
        for p in PRESIEVE {
            for &r in &WHEEL {
                // Multiples p·q with q ≡ r (mod 30), starting at q = r (for r = 1 that crosses
                // p itself, which `next_segment` restores).
                let q = u64::from(r);
                let m = u64::from(p) * q;
                let mask = !(1u8 << BIT_OF[(m % 30) as usize]);
                let mut i = (m / 30) as usize;
                while i < PATTERN_LEN {
                    pat[i] &= mask;
                    i += p as usize;
                }
            }
        }
        pat
    })
}

/// A sieving prime and, per wheel stream, the byte of its next multiple relative to the
/// current segment.
#[derive(Debug, Clone)]
struct SievingPrime {
    p: u32,
    masks: [u8; 8],
    next: [u32; 8],
}

/// A segmented sieve walking the bytes `[first_byte, end_byte)` of the wheel, i.e. the
/// numbers `[30 first_byte, 30 end_byte)`.
#[derive(Debug)]
pub(crate) struct Segmented {
    /// Sieving primes not yet active, ascending (they start at p², maybe beyond this segment).
    pending: &'static [u32],
    active: Vec<SievingPrime>,
    /// First byte of the next segment.
    byte: u64,
    end_byte: u64,
    seg_len: usize,
    buf: Vec<u8>,
}

impl Segmented {
    /// A sieve over the numbers `[lo, hi)` (rounded out to whole bytes; see [`Self::next_segment`]).
    pub(crate) fn new(lo: u64, hi: u64) -> Self {
        let first_byte = lo / 30;
        let end_byte = hi.div_ceil(30);
        let root = isqrt(hi.saturating_sub(1));
        let all = small_primes();
        // Skip 2, 3, 5 (the wheel) and 7..19 (the pre-sieve pattern).
        let start = all.partition_point(|&p| p <= 19);
        let stop = all.partition_point(|&p| u64::from(p) <= root);
        let seg_len = segment_bytes();
        Self {
            pending: &all[start..stop.max(start)],
            active: Vec::new(),
            byte: first_byte,
            end_byte,
            seg_len,
            buf: vec![0; seg_len],
        }
    }

    /// Sieves the next segment. Returns its first byte and its bits; `None` at the end.
    /// Bits outside the requested range are not cleared: callers mask the edges.
    pub(crate) fn next_segment(&mut self) -> Option<(u64, &[u8])> {
        if self.byte >= self.end_byte {
            return None;
        }
        let base = self.byte;
        let len = (self.end_byte - base).min(self.seg_len as u64) as usize;
        let seg_end_num = u128::from(base + len as u64) * 30;
        // Activate the primes whose square falls before the end of this segment.
        while let Some((&p, rest)) = self.pending.split_first() {
            if u128::from(p) * u128::from(p) >= seg_end_num {
                break;
            }
            self.active.push(init_prime(p, base));
            self.pending = rest;
        }
        let buf = &mut self.buf[..len];
        fill_pattern(buf, base);
        for sp in &mut self.active {
            cross_off(buf, sp);
        }
        if base == 0 {
            // 1 is not prime; the pre-sieving primes are.
            buf[0] = (buf[0] & !1) | 0b0011_1110;
        }
        self.byte = base + len as u64;
        Some((base, &self.buf[..len]))
    }
}

/// Numbers from here on may survive sieving without being prime (their factors are above
/// `SIEVE_LIMIT`), so they are confirmed by Miller–Rabin.
pub(crate) fn verify_limit() -> u128 {
    u128::from(SIEVE_LIMIT) * u128::from(SIEVE_LIMIT)
}

/// Whether a segment ending at byte `end_byte` holds numbers that need confirming.
fn needs_verify(end_byte: u64) -> bool {
    u128::from(end_byte) * 30 > verify_limit()
}

fn init_prime(p: u32, base_byte: u64) -> SievingPrime {
    let p64 = u128::from(p);
    let base = u128::from(base_byte) * 30;
    // The smallest cofactor worth crossing: at least p (smaller ones were crossed by
    // smaller primes) and at least the first multiple in the segment.
    let q0 = (p64).max(base.div_ceil(p64));
    let mut masks = [0u8; 8];
    let mut next = [0u32; 8];
    for k in 0..8 {
        let r = u128::from(WHEEL[k]);
        let q = q0 + (r + 30 - q0 % 30) % 30;
        let m = p64 * q;
        masks[k] = !(1u8 << BIT_OF[(m % 30) as usize]);
        next[k] = (m / 30 - u128::from(base_byte)) as u32;
    }
    SievingPrime { p, masks, next }
}

/// Crosses off one prime's multiples in a segment, all eight streams at once while they are
/// all inside, then each stream to its end; `next` is left relative to the following segment.
#[inline]
fn cross_off(buf: &mut [u8], sp: &mut SievingPrime) {
    let len = buf.len();
    let p = sp.p as usize;
    let mut n = sp.next.map(|x| x as usize);
    let max = *n.iter().max().unwrap_or(&0);
    if max < len {
        // The eight streams are at most p bytes apart, so one loop runs them in lockstep:
        // eight independent stores per iteration, one bounds check.
        let rounds = (len - 1 - max) / p + 1;
        for _ in 0..rounds {
            for k in 0..8 {
                buf[n[k]] &= sp.masks[k];
                n[k] += p;
            }
        }
    }
    for ((&start, &mask), next) in n.iter().zip(&sp.masks).zip(&mut sp.next) {
        let mut i = start;
        while i < len {
            buf[i] &= mask;
            i += p;
        }
        *next = (i - len) as u32;
    }
}

/// Copies the pre-sieve pattern, starting at pattern byte `base % PATTERN_LEN`.
fn fill_pattern(buf: &mut [u8], base: u64) {
    let pat = pattern();
    let mut off = (base % PATTERN_LEN as u64) as usize;
    let mut done = 0;
    while done < buf.len() {
        let take = (buf.len() - done).min(PATTERN_LEN - off);
        buf[done..done + take].copy_from_slice(&pat[off..off + take]);
        done += take;
        off = 0;
    }
}

/// Clears, in byte `byte` of the sieve, the bits of numbers outside `[lo, hi)`.
pub(crate) fn edge_mask(byte: u64, lo: u64, hi: u64) -> u8 {
    let base = u128::from(byte) * 30;
    let mut mask = 0u8;
    for (k, &r) in WHEEL.iter().enumerate() {
        let n = base + u128::from(r);
        if n >= u128::from(lo) && n < u128::from(hi) {
            mask |= 1 << k;
        }
    }
    mask
}

/// The number at bit `bit` (0..64) of the 8-byte word starting at byte `byte`.
#[inline]
pub(crate) fn number_at(byte: u64, bit: u32) -> u64 {
    (byte + u64::from(bit / 8)) * 30 + u64::from(WHEEL[(bit % 8) as usize])
}

/// Calls `f` with every 8-byte word of the segment `[lo, hi)`-masked, and the byte it starts at.
/// The bytes of a segment are read as little-endian u64 words (the tail zero-padded).
#[inline]
pub(crate) fn for_each_word(base: u64, bits: &[u8], lo: u64, hi: u64, mut f: impl FnMut(u64, u64)) {
    let lo_byte = lo / 30;
    let hi_byte = hi.div_ceil(30);
    let first = lo_byte.saturating_sub(base) as usize;
    let last = (hi_byte.saturating_sub(base) as usize).min(bits.len());
    if first >= last {
        return;
    }
    let mut i = first;
    while i < last {
        let take = (last - i).min(8);
        let mut word = [0u8; 8];
        word[..take].copy_from_slice(&bits[i..i + take]);
        let byte = base + i as u64;
        if byte == lo_byte {
            word[0] &= edge_mask(byte, lo, hi);
        }
        let last_byte = byte + take as u64 - 1;
        if last_byte == hi_byte - 1 {
            word[take - 1] &= edge_mask(last_byte, lo, hi);
        }
        f(byte, u64::from_le_bytes(word));
        i += take;
    }
}

/// Counts the primes ≥ 7 in `[lo, hi)` with one sieve (no threads).
pub(crate) fn count_range(lo: u64, hi: u64) -> u64 {
    if lo >= hi {
        return 0;
    }
    let mut sieve = Segmented::new(lo, hi);
    let mut count = 0u64;
    while let Some((base, bits)) = sieve.next_segment() {
        let end = base + bits.len() as u64;
        let interior = base > lo / 30 && end < hi.div_ceil(30);
        if interior && !needs_verify(end) {
            // The fast path: whole segment inside the range, no verification.
            count += popcount(bits);
            continue;
        }
        let verify = needs_verify(end);
        let from = verify_limit();
        for_each_word(base, bits, lo, hi, |byte, mut w| {
            if !verify {
                count += u64::from(w.count_ones());
                return;
            }
            while w != 0 {
                let n = number_at(byte, w.trailing_zeros());
                if u128::from(n) < from || is_prime_u64(n) {
                    count += 1;
                }
                w &= w - 1;
            }
        });
    }
    count
}

/// Appends the primes ≥ 7 in `[lo, hi)`, ascending, to `out`.
pub(crate) fn extend_range(lo: u64, hi: u64, out: &mut Vec<u64>) {
    if lo >= hi {
        return;
    }
    let mut sieve = Segmented::new(lo, hi);
    while let Some((base, bits)) = sieve.next_segment() {
        let verify = needs_verify(base + bits.len() as u64);
        let from = verify_limit();
        for_each_word(base, bits, lo, hi, |byte, w| {
            push_word(byte, w, verify, from, out)
        });
    }
}

/// Appends the primes of one sieve word.
#[inline]
pub(crate) fn push_word(byte: u64, mut w: u64, verify: bool, from: u128, out: &mut Vec<u64>) {
    if !verify {
        // The common case: every set bit is a prime; one capacity check per word.
        out.reserve(w.count_ones() as usize);
        let base = byte * 30;
        while w != 0 {
            let bit = w.trailing_zeros();
            out.push(base + u64::from(bit / 8) * 30 + u64::from(WHEEL[(bit % 8) as usize]));
            w &= w - 1;
        }
        return;
    }
    while w != 0 {
        let n = number_at(byte, w.trailing_zeros());
        if !verify || u128::from(n) < from || is_prime_u64(n) {
            out.push(n);
        }
        w &= w - 1;
    }
}

/// The number of set bits, eight bytes at a time.
fn popcount(bits: &[u8]) -> u64 {
    let mut chunks = bits.chunks_exact(8);
    let mut n: u64 = (&mut chunks)
        .map(|c| u64::from(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])).count_ones()))
        .sum();
    n += chunks
        .remainder()
        .iter()
        .map(|b| u64::from(b.count_ones()))
        .sum::<u64>();
    n
}

/// ⌊√n⌋, exactly.
pub(crate) fn isqrt(n: u64) -> u64 {
    n.isqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(n: u64) -> bool {
        n >= 2
            && (2..)
                .take_while(|d| d * d <= n)
                .all(|d| !n.is_multiple_of(d))
    }

    #[test]
    fn extend_range_matches_trial_division_on_many_windows() {
        for (lo, hi) in [
            (0, 1000),
            (7, 8),
            (0, 7),
            (29, 31),
            (1, 30),
            (100_000, 101_000),
            (999_000, 1_003_000),
        ] {
            let mut got = Vec::new();
            extend_range(lo, hi, &mut got);
            let want: Vec<u64> = (lo.max(7)..hi).filter(|&n| trial(n)).collect();
            assert_eq!(got, want, "[{lo}, {hi})");
            assert_eq!(count_range(lo, hi), want.len() as u64, "[{lo}, {hi})");
        }
    }

    #[test]
    fn segments_longer_than_one_pattern_period_and_one_segment() {
        let hi = 3_000_000;
        let mut got = Vec::new();
        extend_range(0, hi, &mut got);
        // π(3e6) = 216816, minus 2, 3, 5.
        assert_eq!(got.len(), 216_816 - 3);
        assert_eq!(count_range(0, hi), 216_816 - 3);
        assert!(got.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn the_pattern_has_the_right_density() {
        let ones: u64 = pattern().iter().map(|b| u64::from(b.count_ones())).sum();
        assert_eq!(ones, 8 * 6 * 10 * 12 * 16 * 18);
    }
}
