//! The segmented sieve of Eratosthenes over the mod-30 wheel, after primesieve's design
//! (its doc/ALGORITHMS.md).
//!
//! Byte `b` of a sieve holds the eight numbers `30 b + r` with `r` coprime to 30
//! ([`WHEEL`]), one bit each, so a byte covers 30 numbers and 2, 3 and 5 are never stored.
//! A segment is sized to the L2 cache and sieved in L1-sized chunks:
//!
//! - **pre-sieve**: each chunk starts as the AND of 16 periodic patterns that already have
//!   the multiples of the primes 7 to 163 crossed off (each pattern covers two or three
//!   primes, so its period is their product in bytes, 6 to 10 KB), four patterns per pass;
//! - **small primes** (a few per L1 chunk bytes) cross off chunk by chunk while it is in L1,
//!   with an unrolled loop: the eight multiples `p·(30k + r)` of one wheel turn sit at fixed
//!   byte offsets and bits that depend only on `p mod 30`, so each turn is eight
//!   `byte &= constant` at `i + offset` and the loop is monomorphised per residue class;
//! - **medium primes** (up to a few segment lengths) cross off the whole L2 segment with the
//!   same wheel loop (a handful of turns per segment);
//! - **big primes** (fewer than one multiple per segment) go to a bucket sieve: each waits
//!   in the bucket of the segment holding its next multiple, so a segment only touches the
//!   primes that actually hit it;
//! - counting is a popcount of the segment (the edge bytes of a range masked); listing turns each 64-bit word's set bits into
//!   numbers written straight into the output.
//!
//! Sieving primes are taken up to `min(√hi, SIEVE_LIMIT)` (and, for narrow windows, not much
//! beyond the window's width); survivors at or above the square of the first prime not used
//! are confirmed with Miller–Rabin, which keeps the memory of a sieve bounded (a few MB)
//! however large the range is.

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

/// From cofactor residue `WHEEL[j]` to the next one.
const GAP: [u8; 8] = [6, 4, 2, 4, 2, 4, 6, 2];

/// For a prime `p = 30 d + WHEEL[ri]` and a cofactor `q ≡ WHEEL[j]`: the mask clearing the
/// bit of `p·q` (`MASK[ri][j]`), and the carry of the step to the next cofactor: the byte of
/// `p·(q + GAP[j])` is the byte of `p·q` plus `d·GAP[j] + CARRY[ri][j]`.
const MASK: [[u8; 8]; 8] = {
    let mut t = [[0u8; 8]; 8];
    let mut ri = 0;
    while ri < 8 {
        let mut j = 0;
        while j < 8 {
            let s = (WHEEL[ri] as usize * WHEEL[j] as usize) % 30;
            t[ri][j] = !(1u8 << BIT_OF[s]);
            j += 1;
        }
        ri += 1;
    }
    t
};

const CARRY: [[u8; 8]; 8] = {
    let mut t = [[0u8; 8]; 8];
    let mut ri = 0;
    while ri < 8 {
        let mut j = 0;
        while j < 8 {
            let r = WHEEL[ri] as usize;
            let s = (r * WHEEL[j] as usize) % 30;
            t[ri][j] = ((s + r * GAP[j] as usize) / 30) as u8;
            j += 1;
        }
        ri += 1;
    }
    t
};

/// Sieving primes stop here: the primes up to 2^22 are 295,947 numbers (1.2 MB as `u32`,
/// 2.4 MB of sieve state when all are in use, from ranges above 1.7e13 on).
pub(crate) const SIEVE_LIMIT: u32 = 1 << 22;

/// The pre-sieved primes (7 to 163) in 16 groups, as primesieve 12 groups them (its
/// src/PreSieve.cpp): each group's product, the period of its pattern in bytes, is 6 to 10 KB,
/// 123 KB for all sixteen, so the patterns stay in L2 beside the segment.
const PRESIEVE_GROUPS: [&[u32]; 16] = [
    &[7, 23, 37],
    &[11, 19, 31],
    &[13, 17, 29],
    &[41, 163],
    &[43, 157],
    &[47, 151],
    &[53, 149],
    &[59, 139],
    &[61, 137],
    &[67, 131],
    &[71, 127],
    &[73, 113],
    &[79, 109],
    &[83, 107],
    &[89, 103],
    &[97, 101],
];

/// The largest pre-sieved prime; sieving starts above it.
const PRESIEVE_MAX: u32 = 163;

/// The L1 and L2 data cache sizes and how many logical CPUs share the L2, from CPUID when it
/// reports them.
fn caches() -> (usize, usize, usize) {
    static SIZES: OnceLock<(usize, usize, usize)> = OnceLock::new();
    *SIZES.get_or_init(|| {
        let l1 = data_cache(1)
            .map(|c| c.bytes)
            .unwrap_or(32 * 1024)
            .clamp(16 * 1024, 128 * 1024);
        let l2 = data_cache(2).unwrap_or(Cache {
            bytes: 512 * 1024,
            sharing: 1,
        });
        // CPUID's sharing count is the most logical CPUs that could share the cache; only the
        // hardware threads of one core do for an L2, so cap it by the threads per core.
        let sharing = l2.sharing.min(threads_per_core()).max(1);
        (l1, l2.bytes.clamp(l1, 8 << 20), sharing)
    })
}

/// Bytes per L1 chunk of a segment (small primes cross off one chunk at a time).
pub(crate) fn chunk_bytes() -> usize {
    // A power of two at most the L1 size, so segments are a whole number of chunks.
    let l1 = caches().0;
    1 << (usize::BITS - 1 - l1.leading_zeros())
}

/// The largest power of two at most `n` (n ≥ 1).
fn floor_pow2(n: usize) -> usize {
    1 << (usize::BITS - 1 - n.max(1).leading_zeros())
}

/// Bytes per segment, as primesieve sizes its sieve array (`get_sieve_size` in its
/// src/api.cpp): at most 16 L1 caches, and below the L2 cache share of one hardware thread
/// (its half when two threads share it, the next power of two below it otherwise), so the
/// sieving primes and the pre-sieve patterns stay in L2 beside it; a whole number of chunks.
/// On AMD Zen 5 here (32 KiB L1d reported, 1 MiB L2) that is 512 KiB; on Intel Sapphire Rapids
/// (48 KiB, 2 MiB) 768 KiB whether or not the two threads of a core share the L2.
pub(crate) fn segment_bytes() -> usize {
    static SIZE: OnceLock<usize> = OnceLock::new();
    *SIZE.get_or_init(|| {
        let chunk = chunk_bytes();
        let (l1, l2, sharing) = caches();
        let per_thread = l2 / sharing;
        let below_l2 = if sharing == 2 {
            floor_pow2(per_thread)
        } else {
            floor_pow2(per_thread - 1)
        };
        let size = (16 * l1).min(below_l2.max(l1)).max(chunk);
        size / chunk * chunk
    })
}

/// A cache's size and the most logical CPUs that share it.
#[derive(Clone, Copy)]
struct Cache {
    bytes: usize,
    sharing: usize,
}

/// Hardware threads per core from CPUID leaf 0xB (its SMT level), 1 when not reported.
#[cfg(target_arch = "x86_64")]
#[allow(unused_unsafe)]
fn threads_per_core() -> usize {
    use std::arch::x86_64::__cpuid_count;
    // SAFETY: CPUID exists on every x86_64 CPU; unknown leaves return zeros.
    #[allow(unsafe_code)]
    let max = unsafe { __cpuid_count(0, 0) }.eax;
    if max < 0xB {
        return 1;
    }
    // SAFETY: as above.
    #[allow(unsafe_code)]
    let smt = unsafe { __cpuid_count(0xB, 0) };
    // Level type 1 is SMT; EBX[15:0] is the logical processors at that level.
    if (smt.ecx >> 8) & 0xff == 1 {
        ((smt.ebx & 0xffff) as usize).max(1)
    } else {
        1
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn threads_per_core() -> usize {
    1
}

/// A data cache from CPUID (leaf 4 on Intel, 0x8000_001D on AMD); no I/O.
#[cfg(target_arch = "x86_64")]
// `__cpuid_count` became a safe function in Rust 1.94; the MSRV (1.89) still needs `unsafe`.
#[allow(unused_unsafe)]
fn data_cache(want_level: u32) -> Option<Cache> {
    use std::arch::x86_64::__cpuid_count;
    // SAFETY: CPUID exists on every x86_64 CPU; unknown leaves return zeros.
    #[allow(unsafe_code)]
    let vendor = unsafe { __cpuid_count(0, 0) };
    // SAFETY: as above.
    #[allow(unsafe_code)]
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
        #[allow(unsafe_code)]
        let r = unsafe { __cpuid_count(leaf, sub) };
        let kind = r.eax & 0x1f;
        if kind == 0 {
            break;
        }
        let level = (r.eax >> 5) & 0x7;
        // Kind 1 is a data cache, 3 a unified one.
        if level == want_level && (kind == 1 || kind == 3) {
            let ways = ((r.ebx >> 22) & 0x3ff) as usize + 1;
            let partitions = ((r.ebx >> 12) & 0x3ff) as usize + 1;
            let line = (r.ebx & 0xfff) as usize + 1;
            let sets = r.ecx as usize + 1;
            // EAX[25:14] is the most logical processors sharing the cache, minus one.
            let sharing = ((r.eax >> 14) & 0xfff) as usize + 1;
            return Some(Cache {
                bytes: ways * partitions * line * sets,
                sharing,
            });
        }
    }
    None
}

#[cfg(not(target_arch = "x86_64"))]
fn data_cache(_level: u32) -> Option<Cache> {
    None
}

/// The sieving primes up to `max_p` (a prefix of the primes below [`SIEVE_LIMIT`], or
/// more): the primes below 2^16, 2^19 or 2^22, each list computed once by a plain odd-only
/// sieve when first needed. All those below 2^22 take ~7 ms to list, a seventh of π(1e9) on
/// two threads, which needs only those below 2^16 (0.1 ms).
fn sieving_primes(max_p: u64) -> &'static [u32] {
    static TIERS: [OnceLock<Vec<u32>>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    const BITS: [u32; 3] = [16, 19, 22];
    const _: () = assert!(1 << BITS[2] == SIEVE_LIMIT);
    let t = BITS.iter().position(|&b| max_p < 1 << b).unwrap_or(2);
    TIERS[t].get_or_init(|| plain_primes(1 << BITS[t]))
}

/// The primes below `n` by a plain sieve over the odd numbers.
fn plain_primes(n: usize) -> Vec<u32> {
    // One bit per odd number.
    let mut composite = vec![0u64; n / 128 + 1];
    let mut primes = Vec::with_capacity(n / 12 + 16);
    primes.push(2);
    let mut i = 3;
    while i * i < n {
        if composite[i / 128] >> (i / 2 % 64) & 1 == 0 {
            let mut j = i * i;
            while j < n {
                composite[j / 128] |= 1 << (j / 2 % 64);
                j += 2 * i;
            }
        }
        i += 2;
    }
    primes.extend(
        (3..n)
            .step_by(2)
            .filter(|&i| composite[i / 128] >> (i / 2 % 64) & 1 == 0)
            .map(|i| i as u32),
    );
    primes
}

/// The pre-sieve patterns: pattern `g` has, at byte `b`, the bits of the numbers `30 b + r`
/// that are coprime to the primes of group `g`.
fn patterns() -> &'static [Vec<u8>] {
    static PATTERNS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        PRESIEVE_GROUPS
            .iter()
            .map(|group| {
                let len = group.iter().product::<u32>() as usize;
                let mut pat = vec![0xffu8; len];
                for &p in *group {
                    for &r in &WHEEL {
                        // The multiples p·q with q ≡ r (mod 30) share one bit, p bytes apart
                        // (q = r crosses p itself when r = 1; the first chunk restores it).
                        let m = p as usize * r as usize;
                        let mask = !(1u8 << BIT_OF[m % 30]);
                        let mut i = m / 30;
                        while i < len {
                            pat[i] &= mask;
                            i += p as usize;
                        }
                    }
                }
                pat
            })
            .collect()
    })
}

/// Fills `buf` (starting at sieve byte `byte`) with the AND of the pre-sieve patterns.
fn presieve(buf: &mut [u8], byte: u64) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, the one feature presieve_avx2 is compiled for.
        #[allow(unsafe_code)]
        unsafe {
            presieve_avx2(buf, byte)
        };
        return;
    }
    presieve_generic(buf, byte);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn presieve_avx2(buf: &mut [u8], byte: u64) {
    presieve_generic(buf, byte);
}

#[inline(always)]
fn presieve_generic(buf: &mut [u8], byte: u64) {
    let pats = patterns();
    // Four patterns at a time in one pass: the first four set the bytes, each next four
    // AND into them.
    for (q, four) in pats.chunks_exact(4).enumerate() {
        let mut pos = [0usize; 4];
        for (p, pat) in pos.iter_mut().zip(four) {
            *p = (byte % pat.len() as u64) as usize;
        }
        let mut done = 0;
        while done < buf.len() {
            let mut take = buf.len() - done;
            for (p, pat) in pos.iter().zip(four) {
                take = take.min(pat.len() - p);
            }
            let dst = &mut buf[done..done + take];
            let a = &four[0][pos[0]..pos[0] + take];
            let b = &four[1][pos[1]..pos[1] + take];
            let c = &four[2][pos[2]..pos[2] + take];
            let d = &four[3][pos[3]..pos[3] + take];
            if q == 0 {
                for ((((o, a), b), c), d) in dst.iter_mut().zip(a).zip(b).zip(c).zip(d) {
                    *o = a & b & c & d;
                }
            } else {
                for ((((o, a), b), c), d) in dst.iter_mut().zip(a).zip(b).zip(c).zip(d) {
                    *o &= a & b & c & d;
                }
            }
            done += take;
            for (p, pat) in pos.iter_mut().zip(four) {
                *p += take;
                if *p == pat.len() {
                    *p = 0;
                }
            }
        }
    }
}

/// A small or medium sieving prime `p = 30 d + WHEEL[ri]` (its class `ri` is the list it is
/// in) and its next multiple: byte `pos` relative to the current chunk or segment, cofactor
/// residue `WHEEL[j]`.
#[derive(Debug, Clone, Copy)]
struct Erat {
    d: u32,
    pos: u32,
    j: u32,
}

/// Crosses off the multiples of one prime of class `RI` in `buf`, leaving `e` at its next
/// multiple relative to the end of `buf`.
#[inline(always)]
fn cross_wheel<const RI: usize>(buf: &mut [u8], e: &mut Erat) {
    let len = buf.len();
    let d = e.d as usize;
    let mut i = e.pos as usize;
    let mut j = e.j as usize;
    // Step to the start of a wheel turn (cofactor ≡ 1).
    while j != 0 {
        if i >= len {
            e.pos = (i - len) as u32;
            e.j = j as u32;
            return;
        }
        buf[i] &= MASK[RI][j];
        i += d * GAP[j] as usize + CARRY[RI][j] as usize;
        j = (j + 1) & 7;
    }
    // Whole turns: the multiple with cofactor 30k + WHEEL[t] is `off(t)` bytes after the one
    // with cofactor 30k + 1, and the next turn starts p bytes later.
    let r = WHEEL[RI] as usize;
    let off = |t: usize| d * (WHEEL[t] as usize - 1) + r * WHEEL[t] as usize / 30;
    let (o1, o2, o3, o4, o5, o6, o7) = (off(1), off(2), off(3), off(4), off(5), off(6), off(7));
    let p = 30 * d + r;
    if len > o7 {
        let stop = len - o7;
        let ptr = buf.as_mut_ptr();
        while i < stop {
            // SAFETY: i + o7 < len and o1 < … < o7, so every index is inside `buf`.
            #[allow(unsafe_code)]
            unsafe {
                *ptr.add(i) &= MASK[RI][0];
                *ptr.add(i + o1) &= MASK[RI][1];
                *ptr.add(i + o2) &= MASK[RI][2];
                *ptr.add(i + o3) &= MASK[RI][3];
                *ptr.add(i + o4) &= MASK[RI][4];
                *ptr.add(i + o5) &= MASK[RI][5];
                *ptr.add(i + o6) &= MASK[RI][6];
                *ptr.add(i + o7) &= MASK[RI][7];
            }
            i += p;
        }
    }
    // The rest of the last turn (fewer than eight multiples).
    while i < len {
        buf[i] &= MASK[RI][j];
        i += d * GAP[j] as usize + CARRY[RI][j] as usize;
        j = (j + 1) & 7;
    }
    e.pos = (i - len) as u32;
    e.j = j as u32;
}

/// Crosses off every prime of `lists` (one list per residue class) in `buf`.
fn cross_lists(buf: &mut [u8], lists: &mut [Vec<Erat>; 8]) {
    macro_rules! class {
        ($ri:literal) => {
            for e in &mut lists[$ri] {
                cross_wheel::<$ri>(buf, e);
            }
        };
    }
    class!(0);
    class!(1);
    class!(2);
    class!(3);
    class!(4);
    class!(5);
    class!(6);
    class!(7);
}

/// A big sieving prime waiting in a bucket: `d` (p = 30 d + WHEEL[ri]) and, packed, the byte
/// of its next multiple inside the bucket's segment, `ri` and `j` (`pos << 6 | ri << 3 | j`).
#[derive(Debug, Clone, Copy)]
struct BigPrime {
    d: u32,
    packed: u32,
}

/// The bucket sieve of the big primes: bucket `(current + k) % len` holds the primes whose
/// next multiple lies `k` segments ahead.
#[derive(Debug, Default)]
struct Buckets {
    buckets: Vec<Vec<BigPrime>>,
    current: usize,
}

impl Buckets {
    /// Files a big prime whose next multiple is `pos` bytes after the current segment's start.
    #[inline]
    fn push(&mut self, seg_len: usize, d: u32, pos: u64, ri: usize, j: usize) {
        let ahead = (pos / seg_len as u64) as usize;
        let n = self.buckets.len();
        debug_assert!(ahead < n);
        let at = (pos % seg_len as u64) as u32;
        self.buckets[(self.current + ahead) % n].push(BigPrime {
            d,
            packed: at << 6 | (ri as u32) << 3 | j as u32,
        });
    }

    /// Crosses off the current segment's big primes and files each at its next multiple.
    fn sieve(&mut self, buf: &mut [u8], seg_len: usize) {
        if self.buckets.is_empty() {
            return;
        }
        let len = buf.len();
        let mut list = std::mem::take(&mut self.buckets[self.current]);
        for b in list.drain(..) {
            let mut i = (b.packed >> 6) as usize;
            let ri = (b.packed >> 3 & 7) as usize;
            let mut j = (b.packed & 7) as usize;
            let d = b.d as usize;
            while i < len {
                buf[i] &= MASK[ri][j];
                i += d * GAP[j] as usize + CARRY[ri][j] as usize;
                j = (j + 1) & 7;
            }
            // Only the last (short) segment can leave a multiple inside the stride: drop it.
            if i >= seg_len {
                let n = self.buckets.len();
                let ahead = i / seg_len;
                let at = (i % seg_len) as u32;
                self.buckets[(self.current + ahead) % n].push(BigPrime {
                    d: b.d,
                    packed: at << 6 | (ri as u32) << 3 | j as u32,
                });
            }
        }
        self.buckets[self.current] = list;
        self.current = (self.current + 1) % self.buckets.len();
    }
}

/// A segmented sieve walking the bytes `[first_byte, end_byte)` of the wheel, i.e. the
/// numbers `[30 first_byte, 30 end_byte)`.
#[derive(Debug)]
pub(crate) struct Segmented {
    /// Sieving primes not yet active, ascending (they start at p², maybe beyond this segment).
    pending: &'static [u32],
    /// Small primes per residue class; positions relative to the current chunk.
    small: [Vec<Erat>; 8],
    /// Medium primes per residue class; positions relative to the current segment.
    medium: [Vec<Erat>; 8],
    big: Buckets,
    /// Primes below these are small, resp. medium.
    small_below: u32,
    medium_below: u32,
    /// First byte of the next segment.
    byte: u64,
    end_byte: u64,
    seg_len: usize,
    chunk_len: usize,
    buf: Vec<u8>,
    /// Survivors from here on are confirmed by Miller–Rabin.
    verify_from: u128,
}

impl Segmented {
    /// A sieve over the numbers `[lo, hi)` (rounded out to whole bytes; see [`Self::next_segment`]).
    pub(crate) fn new(lo: u64, hi: u64) -> Self {
        let first_byte = lo / 30;
        let end_byte = hi.div_ceil(30);
        let root = isqrt(hi.saturating_sub(1));
        // A narrow window gains nothing from primes far beyond its width: each would cross
        // at most once. Stop there and confirm the (few) survivors instead.
        let width = hi.saturating_sub(lo);
        let max_p = root
            .min(u64::from(SIEVE_LIMIT) - 1)
            .min(width.saturating_mul(4).max(1 << 16));
        let all = sieving_primes(max_p);
        let start = all.partition_point(|&p| p <= PRESIEVE_MAX);
        let stop = all.partition_point(|&p| u64::from(p) <= max_p);
        let verify_from = if max_p >= root {
            u128::MAX
        } else {
            u128::from(max_p + 1) * u128::from(max_p + 1)
        };
        let chunk_len = chunk_bytes();
        let seg_len = segment_bytes();
        let bytes = (end_byte - first_byte).min(seg_len as u64) as usize;
        // Small primes have at least five wheel turns per L1 chunk, so the unrolled loop
        // does most of their work (primesieve's FACTOR_ERATSMALL, 0.2; at half a chunk,
        // as before, π(1e10) took 10% longer).
        let small_below = (chunk_len / 5) as u32;
        let medium_below = (seg_len * 4) as u32;
        let mut big = Buckets::default();
        let top = all[..stop.max(start)].last().copied().unwrap_or(0);
        if top >= medium_below {
            // The largest step between multiples is about 6 p / 30 bytes.
            let max_step = u64::from(top) / 5 + 8;
            let n = (max_step / seg_len as u64) as usize + 2;
            big.buckets = (0..n).map(|_| Vec::new()).collect();
        }
        Self {
            pending: &all[start..stop.max(start)],
            small: Default::default(),
            medium: Default::default(),
            big,
            small_below,
            medium_below,
            byte: first_byte,
            end_byte,
            seg_len,
            chunk_len,
            buf: vec![0; bytes],
            verify_from,
        }
    }

    /// Survivors at or above this number are not sieved enough to be known primes.
    pub(crate) fn verify_from(&self) -> u128 {
        self.verify_from
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
            self.activate(p, base);
            self.pending = rest;
        }
        let buf = &mut self.buf[..len];
        let mut c0 = 0;
        while c0 < len {
            let c1 = (c0 + self.chunk_len).min(len);
            let chunk = &mut buf[c0..c1];
            presieve(chunk, base + c0 as u64);
            let at = base + c0 as u64;
            if at <= u64::from(PRESIEVE_MAX) / 30 {
                // 1 is not prime; the pre-sieved primes are.
                if at == 0 {
                    chunk[0] &= !1;
                }
                for &p in sieving_primes(0)[3..]
                    .iter()
                    .take_while(|&&p| p <= PRESIEVE_MAX)
                {
                    let byte = u64::from(p / 30);
                    if byte >= at
                        && let Some(b) = chunk.get_mut((byte - at) as usize)
                    {
                        *b |= 1 << BIT_OF[p as usize % 30];
                    }
                }
            }
            cross_lists(chunk, &mut self.small);
            c0 = c1;
        }
        cross_lists(buf, &mut self.medium);
        self.big.sieve(buf, self.seg_len);
        self.byte = base + len as u64;
        Some((base, &self.buf[..len]))
    }

    /// Starts sieving with `p` at its first multiple that matters in the segment at `base`.
    fn activate(&mut self, p: u32, base_byte: u64) {
        let p128 = u128::from(p);
        let base = u128::from(base_byte) * 30;
        // The smallest cofactor worth crossing: at least p (smaller ones were crossed by
        // smaller primes) and at least the first multiple in the segment; then up to the
        // next residue coprime to 30.
        let mut q = p128.max(base.div_ceil(p128));
        while BIT_OF[(q % 30) as usize] == 8 {
            q += 1;
        }
        let j = BIT_OF[(q % 30) as usize] as usize;
        let pos = (p128 * q / 30 - u128::from(base_byte)) as u64;
        let d = p / 30;
        let ri = BIT_OF[(p % 30) as usize] as usize;
        if p < self.small_below {
            self.small[ri].push(Erat {
                d,
                pos: pos as u32,
                j: j as u32,
            });
        } else if p < self.medium_below {
            self.medium[ri].push(Erat {
                d,
                pos: pos as u32,
                j: j as u32,
            });
        } else {
            self.big.push(self.seg_len, d, pos, ri, j);
        }
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

/// The offset from `30 · byte` of the number at bit `bit` (0..64) of a word starting at `byte`.
const OFFSET: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut b = 0;
    while b < 64 {
        t[b] = (b / 8 * 30) as u8 + WHEEL[b % 8];
        b += 1;
    }
    t
};

/// The number at bit `bit` (0..64) of the 8-byte word starting at byte `byte`.
#[inline]
pub(crate) fn number_at(byte: u64, bit: u32) -> u64 {
    byte * 30 + u64::from(OFFSET[bit as usize])
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

/// Whether a segment starting at byte `base` and `len` bytes long lies strictly inside the
/// bytes of `[lo, hi)` (no edge byte) and below `verify_from`.
fn is_interior(base: u64, len: usize, lo: u64, hi: u64, verify_from: u128) -> bool {
    let end = base + len as u64;
    base > lo / 30 && end < hi.div_ceil(30) && u128::from(end) * 30 <= verify_from
}

/// Counts the primes ≥ 7 in `[lo, hi)` with one sieve (no threads).
pub(crate) fn count_range(lo: u64, hi: u64) -> u64 {
    if lo >= hi {
        return 0;
    }
    let mut sieve = Segmented::new(lo, hi);
    let from = sieve.verify_from();
    let mut count = 0u64;
    let (lo_byte, hi_byte) = (lo / 30, hi.div_ceil(30));
    while let Some((base, bits)) = sieve.next_segment() {
        if u128::from(base + bits.len() as u64) * 30 <= from {
            // The fast path: no verification; a popcount of the bytes in the range, minus
            // the bits of the edge bytes that lie outside it.
            let first = lo_byte.saturating_sub(base) as usize;
            let last = (hi_byte.saturating_sub(base) as usize).min(bits.len());
            if first < last {
                count += popcount(&bits[first..last]);
                if base + first as u64 == lo_byte {
                    count -= u64::from((bits[first] & !edge_mask(lo_byte, lo, hi)).count_ones());
                }
                if base + last as u64 == hi_byte
                    && (last - 1 != first || base + first as u64 != lo_byte)
                {
                    count -=
                        u64::from((bits[last - 1] & !edge_mask(hi_byte - 1, lo, hi)).count_ones());
                }
            }
            continue;
        }
        for_each_word(base, bits, lo, hi, |byte, mut w| {
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
    let from = sieve.verify_from();
    while let Some((base, bits)) = sieve.next_segment() {
        if is_interior(base, bits.len(), lo, hi, from) {
            // Room for the whole segment, then plain stores.
            let n = popcount(bits) as usize;
            let at = out.len();
            out.resize(at + n, 0);
            let written = write_segment(base, bits, &mut out[at..]);
            debug_assert_eq!(written, n);
            continue;
        }
        for_each_word(base, bits, lo, hi, |byte, w| push_word(byte, w, from, out));
    }
}

/// Writes the primes ≥ 7 in `[lo, hi)`, ascending, into `out`, which must have room for
/// exactly all of them; returns how many were written (`out.len()` when it had the right size).
pub(crate) fn fill_range(lo: u64, hi: u64, out: &mut [u64]) -> usize {
    if lo >= hi {
        return 0;
    }
    let mut sieve = Segmented::new(lo, hi);
    let from = sieve.verify_from();
    let mut at = 0;
    let mut spill = Vec::new();
    while let Some((base, bits)) = sieve.next_segment() {
        if at < out.len() && is_interior(base, bits.len(), lo, hi, from) {
            let room = out.len() - at;
            if popcount(bits) as usize <= room {
                at += write_segment(base, bits, &mut out[at..]);
                continue;
            }
        }
        spill.clear();
        for_each_word(base, bits, lo, hi, |byte, w| {
            push_word(byte, w, from, &mut spill);
        });
        let take = spill.len().min(out.len() - at);
        out[at..at + take].copy_from_slice(&spill[..take]);
        at += take;
    }
    at
}

/// Writes the primes of a whole segment (every set bit, no edges, no verification) into
/// `out`, which must have room for them; returns how many.
#[inline]
fn write_segment(base: u64, bits: &[u8], out: &mut [u64]) -> usize {
    let mut at = 0;
    let mut chunks = bits.chunks_exact(8);
    let mut byte = base;
    for c in &mut chunks {
        let mut w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        let b = byte * 30;
        let n = w.count_ones() as usize;
        // One bounds check per word, then plain stores.
        let dst = &mut out[at..at + n];
        for slot in dst {
            *slot = b + u64::from(OFFSET[w.trailing_zeros() as usize]);
            w &= w - 1;
        }
        at += n;
        byte += 8;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        let mut w = u64::from_le_bytes(word);
        while w != 0 {
            out[at] = number_at(byte, w.trailing_zeros());
            at += 1;
            w &= w - 1;
        }
    }
    at
}

/// Appends the primes of one sieve word; survivors from `from` on are confirmed first.
#[inline]
pub(crate) fn push_word(byte: u64, mut w: u64, from: u128, out: &mut Vec<u64>) {
    if u128::from(byte + 8) * 30 <= from {
        // The common case: every set bit is a prime; one capacity check per word.
        out.reserve(w.count_ones() as usize);
        let base = byte * 30;
        while w != 0 {
            out.push(base + u64::from(OFFSET[w.trailing_zeros() as usize]));
            w &= w - 1;
        }
        return;
    }
    while w != 0 {
        let n = number_at(byte, w.trailing_zeros());
        if u128::from(n) < from || is_prime_u64(n) {
            out.push(n);
        }
        w &= w - 1;
    }
}

/// The number of set bits (the `popcnt` instruction when the CPU has it).
fn popcount(bits: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU has POPCNT, the one feature popcount_popcnt is compiled for.
        #[allow(unsafe_code)]
        return unsafe { popcount_popcnt(bits) };
    }
    popcount_generic(bits)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn popcount_popcnt(bits: &[u8]) -> u64 {
    popcount_generic(bits)
}

#[inline(always)]
fn popcount_generic(bits: &[u8]) -> u64 {
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
    use crate::primes::tests::trial;

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
            let mut exact = vec![0; want.len()];
            assert_eq!(fill_range(lo, hi, &mut exact), want.len());
            assert_eq!(exact, want, "[{lo}, {hi})");
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
    fn many_segments_and_big_primes_agree_with_a_plain_sieve() {
        // Past 2^42 the primes above four segments (big, bucket-sieved) are in use; compare
        // one window there, sieved as many short ranges and as one, against Miller–Rabin.
        let lo = (1u64 << 43) + 12_345;
        let width = 30 * segment_bytes() as u64 * 3 + 777;
        let mut whole = Vec::new();
        extend_range(lo, lo + width, &mut whole);
        assert!(whole.iter().all(|&n| is_prime_u64(n)));
        let mut pieces = Vec::new();
        let step = width / 7;
        let mut a = lo;
        while a < lo + width {
            let b = (a + step).min(lo + width);
            extend_range(a, b, &mut pieces);
            a = b;
        }
        assert_eq!(whole, pieces);
        assert_eq!(count_range(lo, lo + width), whole.len() as u64);
        // And a sample of the gaps: no prime was crossed off.
        let sample = whole.len().min(2000);
        let (first, last) = (whole[0], whole[sample - 1]);
        let want = (first..=last).filter(|&n| is_prime_u64(n)).count();
        assert_eq!(sample, want);
    }

    /// The primes ≥ 7 in `[lo, hi)` by a plain sieve of the window with the primes up to
    /// √hi: the obviously correct reference for the segmented sieve's counts.
    fn plain_count(lo: u64, hi: u64) -> u64 {
        let lo = lo.max(7);
        if lo >= hi {
            return 0;
        }
        let mut prime = vec![true; (hi - lo) as usize];
        let mut p = 2;
        while p * p < hi {
            let mut m = (lo.div_ceil(p) * p).max(p * p);
            while m < hi {
                prime[(m - lo) as usize] = false;
                m += p;
            }
            p += 1;
        }
        prime.iter().filter(|&&b| b).count() as u64
    }

    #[test]
    fn counts_across_segments_with_unaligned_edges_match_a_plain_sieve() {
        // Two and a bit segments starting and ending mid-byte: the edge bytes of the first
        // and last segment are masked, the segment between is counted whole.
        let seg = 30 * segment_bytes() as u64;
        for (lo, hi) in [
            (1_000_003, 1_000_003 + 2 * seg + 17),
            (seg - 1, seg + 1),
            (seg - 29, 2 * seg + 29),
            (0, seg + 30),
        ] {
            assert_eq!(count_range(lo, hi), plain_count(lo, hi), "[{lo}, {hi})");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn counts_of_random_windows_match_a_plain_sieve(
            lo in 0u64..10_000_000_000,
            width in 0u64..100_000,
        ) {
            proptest::prop_assert_eq!(count_range(lo, lo + width), plain_count(lo, lo + width));
        }
    }

    #[test]
    fn the_patterns_have_the_right_density() {
        for (group, pat) in PRESIEVE_GROUPS.iter().zip(patterns()) {
            let ones: u64 = pat.iter().map(|b| u64::from(b.count_ones())).sum();
            let want: u64 = 8 * group.iter().map(|&p| u64::from(p) - 1).product::<u64>();
            assert_eq!(ones, want, "{group:?}");
        }
    }

    #[test]
    fn wheel_steps_reach_the_next_multiple() {
        for (ri, &r) in WHEEL.iter().enumerate() {
            for d in 0..4u64 {
                let p = 30 * d + u64::from(r);
                for (j, &w) in WHEEL.iter().enumerate() {
                    let q = 30 * 3 + u64::from(w);
                    let step = p * (q + u64::from(GAP[j])) / 30 - p * q / 30;
                    assert_eq!(step, d * u64::from(GAP[j]) + u64::from(CARRY[ri][j]));
                    assert_eq!(!MASK[ri][j], 1 << BIT_OF[(p * q % 30) as usize]);
                }
            }
        }
    }
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    #[test]
    fn segments_are_whole_chunks_within_the_caches() {
        let (l1, l2, sharing) = caches();
        let (chunk, seg) = (chunk_bytes(), segment_bytes());
        eprintln!("L1 {l1}, L2 {l2} shared by {sharing}: chunk {chunk}, segment {seg}");
        assert!(chunk <= l1 && chunk.is_power_of_two());
        assert!(seg.is_multiple_of(chunk) && seg >= chunk);
        assert!(seg <= (16 * l1).max(chunk) && seg < l2.max(2 * chunk));
        assert_eq!(floor_pow2(1), 1);
        assert_eq!(floor_pow2(1023 << 10), 512 << 10);
        assert_eq!(floor_pow2(1 << 20), 1 << 20);
    }
}
