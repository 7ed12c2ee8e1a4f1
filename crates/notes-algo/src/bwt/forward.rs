//! The forward transform in the notes' rotation form, in linear time: libsais' sentinel BWT of
//! the least rotation, turned into the rotation BWT (from 2^31 to 2^32 - 1 bytes, the rotation
//! BWT read off the least rotation's suffix array from [`super::sais32`] instead).
//!
//! # Why the suffix array of the least rotation orders the rotations
//!
//! Let `s` have length `n ≥ 1` and let `t = s[r..] + s[..r]` be its least rotation
//! (found in O(n) by Duval's algorithm on `s + s`). The least rotation of any word is a power
//! of a Lyndon word: `t = u^k` with `u` Lyndon (strictly smaller than each of its proper
//! rotations, hence primitive and unbordered) and `p = |u|`, `n = k·p`. Rotations of `s` and of
//! `t` are the same multiset, so sorting the rotations of `t` is enough.
//!
//! Write `X_i = rot_i(t)^ω` for the infinite repetition of the rotation of `t` that starts at
//! `i`; since `t = u^k`, `X_i = t[i..]·u^ω`, and `X_i` has period `p`. Two rotations compare as
//! their `X`s do. If `i ≡ j (mod p)` the rotations are equal. Otherwise `X_i ≠ X_j`, and because
//! both have period `p` they differ at some position `d < p` (if they agreed on `p` symbols they
//! would be identical).
//!
//! The suffix array orders the suffixes `t[i..]` with the usual convention that a proper prefix
//! sorts first (what libsais computes). Claim: for `i ≢ j (mod p)`,
//! `t[i..] < t[j..] ⇔ X_i < X_j`. If both suffixes are longer than `d` they are decided at `d`,
//! where they agree with `X_i` and `X_j`. Otherwise let `t[i..]` be the shorter one, of length
//! `L = n - i ≤ d < p`; then it is a proper suffix `v` of `u` (it lies in the last copy of `u`),
//! and since `X_i` and `X_j` agree before `d`, `v` is a prefix of `X_j`, so of `t[j..]` too
//! (which is longer), and `t[i..] < t[j..]`. It remains to see `X_i < X_j`: write
//! `X_i = v·u^ω` and `X_j = v·Y` where `Y = X_{j+L}` is `w^ω` for some rotation `w` of `u`. `u` is
//! Lyndon, so `u ≤ w` with equality only for `w = u`, which would make `X_j = X_i`, excluded;
//! `u < w` at a position below `p`, so `u^ω < w^ω = Y` and `X_i < X_j`. ∎
//!
//! Within a class of equal rotations (`i ≡ j (mod p)`, `i < j`), `t[j..]` is a proper prefix of
//! `t[i..]` (period `p`), so the suffix array lists equal rotations contiguously, the one that
//! starts last first. Hence the suffix array of `t` is a sorted order of the rotations, the
//! last column is `t[SA[k] - 1]` (read cyclically; equal rotations have equal last symbols, so
//! the tie order does not matter), and the first sorted row holding `s` (Python's
//! `list.index`) is the row of the largest start in the class of `s`, which begins at
//! `q = (n - r) mod n` in `t`: the start `n - p + q mod p`.

use super::sais32;
use libsais::bwt::AuxIndicesSamplingRate;
use libsais::{BwtConstruction, SuffixArrayConstruction};

/// Start `r` of the least rotation of `s` (the smallest `r` if several are equal) and the
/// length `p` of its primitive root, both in O(n) time and O(1) extra memory.
///
/// Duval's Lyndon factorisation of `s + s` (read cyclically, never built) starts its last
/// factor run at or before `n` with the least rotation `t = u^k`. From there the rest of
/// `s + s` is `t` followed by a prefix of `t`, a prefix of `u^ω` with `u` Lyndon, so Duval's
/// inner loop runs to the end with period `j - k = |u| = p`.
pub(crate) fn least_rotation<T: Ord>(s: &[T]) -> (usize, usize) {
    least_rotation_skipping(s, |xs, c| {
        xs.iter().position(|x| x <= c).unwrap_or(xs.len())
    })
}

/// [`least_rotation`] for bytes, skipping runs of symbols above the factor's first one 32
/// bytes at a time.
pub(crate) fn least_rotation_bytes(s: &[u8]) -> (usize, usize) {
    least_rotation_skipping(s, |xs, &c| greater_prefix(xs, c))
}

/// Number of leading bytes of `xs` above `c`, in 32-byte steps that the compiler vectorises.
fn greater_prefix(xs: &[u8], c: u8) -> usize {
    let mut done = 0;
    for chunk in xs.chunks_exact(32) {
        if chunk.iter().fold(false, |seen, &x| seen | (x <= c)) {
            break;
        }
        done += 32;
    }
    done + xs[done..]
        .iter()
        .position(|&x| x <= c)
        .unwrap_or(xs.len() - done)
}

/// Duval's algorithm on `s + s`; `skip(xs, c)` is the number of leading symbols of `xs` above
/// `c`. While `k = i` every symbol above `s[i]` sets `k` to `i` again, so such runs are skipped
/// at once; this is where natural text spends most of the scan.
fn least_rotation_skipping<T: Ord>(s: &[T], skip: impl Fn(&[T], &T) -> usize) -> (usize, usize) {
    let n = s.len();
    debug_assert!(n > 0);
    let at = |x: usize| if x < n { &s[x] } else { &s[x - n] };
    let (mut i, mut start, mut period) = (0, 0, n);
    while i < n {
        start = i;
        let (mut j, mut k) = (i + 1, i);
        while j < 2 * n {
            if k == i {
                let c = &s[i];
                if j < n {
                    j += skip(&s[j..], c);
                }
                if j >= n && j < 2 * n {
                    j += skip(&s[j - n..], c);
                }
                if j == 2 * n {
                    break;
                }
            }
            let (a, b) = (at(k), at(j));
            if a > b {
                break;
            }
            k = if a < b { i } else { k + 1 };
            j += 1;
        }
        period = j - k;
        while i <= k {
            i += j - k;
        }
    }
    (start, period)
}

/// Rate of libsais' sampled ranks (its "aux indexes"): the rank of every `SAMPLE_RATE`-th
/// suffix, 4 bytes (8 above 2^31) per sample, so 1/1024 of a byte per input byte.
const SAMPLE_RATE: usize = 4096;

/// Block of the occurrence table that the short LF walk to the original's row counts in.
const OCC_BLOCK: usize = 16384;

/// The rotation BWT of bytes: last column and the first row holding `s`.
///
/// Memory: `s`, one copy of the least rotation (which becomes the output) and libsais'
/// 4-byte work array below 2^31 bytes: 6 bytes per input byte (and 1/1024 for the samples).
pub(crate) fn bwt_bytes(s: &[u8]) -> (Vec<u8>, usize) {
    let n = s.len();
    if n == 0 {
        return (Vec::new(), 0);
    }
    let (r, p) = least_rotation_bytes(s);
    let mut t = Vec::with_capacity(n);
    t.extend_from_slice(&s[r..]);
    t.extend_from_slice(&s[..r]);
    let index = rotation_bwt_of_least(&mut t, r, p, SAMPLE_RATE, OCC_BLOCK, Engine::for_len(n));
    (t, index)
}

/// [`bwt_bytes`] in place: `buf` becomes its last column; returns the index. Memory: `buf`
/// and libsais' work array, 5 bytes per input byte below 2^31 bytes; `buf`, a 4-byte suffix
/// array and type bits, about 5.25, up to 2^32 - 1 bytes; 9 above.
pub(crate) fn bwt_bytes_in_place(buf: &mut [u8]) -> usize {
    if buf.is_empty() {
        return 0;
    }
    let (r, p) = least_rotation_bytes(buf);
    buf.rotate_left(r);
    rotation_bwt_of_least(
        buf,
        r,
        p,
        SAMPLE_RATE,
        OCC_BLOCK,
        Engine::for_len(buf.len()),
    )
}

/// Turns `t`, the least rotation of the input (starting at `r` in it, primitive root of length
/// `p`), into the input's rotation BWT in place and returns the index.
///
/// # From the sentinel BWT of `t` to its rotation BWT
///
/// Let `SA` be the suffix array of `t` (`n` suffixes, a proper prefix first). By the proof at
/// the top of this module, row `k` of the sorted rotations is the rotation starting at
/// `SA[k]`, so the rotation BWT is `L[k] = t[SA[k] - 1]`, read cyclically: `L[k] = t[n - 1]`
/// for the row `k = i0 - 1` where `SA[i0 - 1] = 0`.
///
/// libsais' BWT mode sorts the suffixes of `t$` (`$` a unique least sentinel), which are
/// `$` (row 0, preceded by `t[n - 1]`) and then `t[SA[k]..]$` (row `k + 1`, preceded by
/// `t[SA[k] - 1]`, or by `$` when `SA[k] = 0`). Its output `U` is that column with the `$`
/// left out, and `i0` (its "primary index") is the row holding the `$`:
///
/// ```text
/// U = t[n-1], t[SA[0]-1], …, t[SA[i0-2]-1], t[SA[i0]-1], …, t[SA[n-1]-1]
/// L =         t[SA[0]-1], …, t[SA[i0-2]-1], t[n-1], t[SA[i0]-1], …, t[SA[n-1]-1]
/// ```
///
/// so `L` is `U` with its first symbol moved to position `i0 - 1`: `U[..i0].rotate_left(1)`.
///
/// # The index
///
/// The first row holding the input is the row of the suffix `target = n - p + (q mod p)`
/// where `q = (n - r) mod n` (module proof), which is its rank in `SA`. libsais samples
/// ranks: `aux[i]` is the row (of `t$`) of the suffix `i·rate`. From the nearest sample
/// `m ≥ target` (or from the `$` row, row 0, standing for the suffix `n`, when no sample
/// lies at or after `target`), the LF mapping of the sentinel BWT steps from the row of the
/// suffix `j` to that of `j - 1` (`j ≥ 1`): `LF(x) = C[c] + occ(c, x)` where `c` is the symbol
/// in row `x`, `C[c]` counts the `$` and the symbols below `c`, and `occ(c, x)` the `c`s in
/// rows `0..x`. Rows after `i0` hold `U[x - 1]` (the `$` is missing from `U`); the walk never
/// reaches row `i0` itself, the suffix 0, since it stops at `target ≥ 0` before stepping
/// from it. So `m - target < rate` steps, each counting within one block of an occurrence
/// table built in one pass over `U`, give the rank of `target` in `t$`; minus one, in `SA`.
///
/// `engine` picks the suffix sorter ([`Engine::for_len`]); [`Engine::Unsigned32`] skips
/// the sentinel BWT and reads the rotation BWT and the index straight off its suffix array
/// (see [`super::sais32`]).
fn rotation_bwt_of_least(
    t: &mut [u8],
    r: usize,
    p: usize,
    rate: usize,
    block: usize,
    engine: Engine,
) -> usize {
    let n = t.len();
    debug_assert!(n > 0 && rate.is_power_of_two() && rate >= 2 && block > 0);
    let target = n - p + ((n - r) % n) % p;
    let sample = target.div_ceil(rate);
    let (i0, from) = match engine {
        Engine::Libsais32 => {
            let aux = sentinel_bwt::<i32>(t, rate);
            (aux[0] as usize, aux.get(sample).map(|&x| x as usize))
        }
        Engine::Unsigned32 => return sais32::rotation_bwt(t, target),
        Engine::Libsais64 => {
            let aux = sentinel_bwt::<i64>(t, rate);
            (aux[0] as usize, aux.get(sample).map(|&x| x as usize))
        }
    };
    // libsais' ranks are in 1..=n.
    let (mut suffix, mut row) = match from {
        Some(row) => (sample * rate, row),
        None => (n, 0),
    };
    if suffix > target {
        let occ = Occurrences::new(t, block);
        while suffix > target {
            let y = if row < i0 { row } else { row - 1 };
            row = occ.lf(t, y);
            suffix -= 1;
        }
    }
    t[..i0].rotate_left(1);
    row - 1
}

/// The suffix sorter for the bytes path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Engine {
    /// libsais' 32-bit BWT mode, in place: 5 bytes per byte, up to `i32::MAX` bytes (its
    /// induced sorting keeps marks in the sign bit).
    Libsais32,
    /// This crate's SA-IS with unsigned 32-bit indices ([`super::sais32`]): about 5.25
    /// bytes per byte, up to `u32::MAX` bytes; slower than libsais, so used only where
    /// libsais needs 8-byte indices.
    Unsigned32,
    /// libsais64: 9 bytes per byte, any length.
    Libsais64,
}

impl Engine {
    /// The engine for `n` bytes: the narrowest that fits.
    fn for_len(n: usize) -> Self {
        if i32::try_from(n).is_ok() {
            Engine::Libsais32
        } else if u32::try_from(n).is_ok() {
            Engine::Unsigned32
        } else {
            Engine::Libsais64
        }
    }
}

/// Runs libsais' BWT mode on `t` in place (the sentinel BWT, `$` left out) and returns its
/// sampled ranks at `rate`.
fn sentinel_bwt<O: libsais::OutputElement>(t: &mut [u8], rate: usize) -> Vec<O> {
    let rate = O::from(rate).unwrap_or_else(|| unreachable!("the rate fits any index type"));
    let bwt = BwtConstruction::replace_text(t)
        .with_owned_temporary_array_buffer::<O>()
        .single_threaded()
        .with_aux_indices(AuxIndicesSamplingRate::from(rate))
        .run()
        .unwrap_or_else(|e| sais_failed(&e));
    let (_, aux, _) = bwt.into_parts();
    aux
}

/// Symbol counts of a text at every `block` positions, for `occ(c, x)` in O(block).
struct Occurrences {
    block: usize,
    /// `before[b * 256 + c]`: number of `c` in `text[..b * block]`.
    before: Vec<u64>,
    /// `C` of the LF mapping: 1 (the `$`) plus the number of symbols below `c`.
    first: [u64; 256],
}

impl Occurrences {
    fn new(text: &[u8], block: usize) -> Self {
        let blocks = text.len().div_ceil(block);
        let mut before = Vec::with_capacity((blocks + 1) * 256);
        let mut count = [0u64; 256];
        for chunk in text.chunks(block) {
            before.extend_from_slice(&count);
            histogram_into(chunk, &mut count);
        }
        let mut first = [0u64; 256];
        let mut sum = 1;
        for (f, c) in first.iter_mut().zip(count) {
            *f = sum;
            sum += c;
        }
        Occurrences {
            block,
            before,
            first,
        }
    }

    /// `C[c] + occ(c, y)` for `c = text[y]`: the LF step from the row holding `text[y]`.
    fn lf(&self, text: &[u8], y: usize) -> usize {
        let c = text[y];
        let b = y / self.block;
        let within = text[b * self.block..y].iter().filter(|&&x| x == c).count();
        (self.first[c as usize] + self.before[b * 256 + c as usize]) as usize + within
    }
}

/// Adds the byte counts of `chunk` to `count`, with four tables so that runs of one byte do
/// not serialise on a single counter.
fn histogram_into(chunk: &[u8], count: &mut [u64; 256]) {
    let mut part = [[0u32; 256]; 4];
    // A chunk is at most OCC_BLOCK bytes in practice; split longer ones so u32 cannot wrap.
    for piece in chunk.chunks(1 << 30) {
        let mut quads = piece.chunks_exact(4);
        for q in &mut quads {
            part[0][q[0] as usize] += 1;
            part[1][q[1] as usize] += 1;
            part[2][q[2] as usize] += 1;
            part[3][q[3] as usize] += 1;
        }
        for &x in quads.remainder() {
            part[0][x as usize] += 1;
        }
        for (c, total) in count.iter_mut().enumerate() {
            *total += u64::from(part[0][c] + part[1][c] + part[2][c] + part[3][c]);
        }
        part = [[0u32; 256]; 4];
    }
}

/// A suffix array with the narrowest index type libsais offers for the length (the
/// generic path, for more than 256 distinct symbols).
enum SuffixArray {
    Narrow(Vec<i32>),
    Wide(Vec<i64>),
}

impl SuffixArray {
    /// For ranks of more than 256 distinct symbols, below 2^31 of them; libsais needs a
    /// mutable text, which it restores.
    fn for_ranks32(t: &mut [i32]) -> Self {
        let mut sa = vec![0i32; t.len()];
        SuffixArrayConstruction::for_text_mut(t)
            .in_borrowed_buffer(&mut sa)
            .single_threaded()
            .run()
            .unwrap_or_else(|e| sais_failed(&e));
        SuffixArray::Narrow(sa)
    }

    /// [`Self::for_ranks32`] for 2^31 symbols or more.
    fn for_ranks64(t: &mut [i64]) -> Self {
        let mut sa = vec![0i64; t.len()];
        SuffixArrayConstruction::for_text_mut(t)
            .in_borrowed_buffer(&mut sa)
            .single_threaded()
            .run()
            .unwrap_or_else(|e| sais_failed(&e));
        SuffixArray::Wide(sa)
    }

    /// Calls `f(row, start)` for every row in order.
    #[inline]
    fn for_each(&self, mut f: impl FnMut(usize, usize)) {
        // libsais returns starts in 0..n, never negative.
        match self {
            SuffixArray::Narrow(sa) => {
                for (k, &j) in sa.iter().enumerate() {
                    f(k, j as usize);
                }
            }
            SuffixArray::Wide(sa) => {
                for (k, &j) in sa.iter().enumerate() {
                    f(k, j as usize);
                }
            }
        }
    }
}

/// libsais fails only when it cannot allocate its work space; Rust aborts on allocation
/// failure too, so this is not an input error.
fn sais_failed(e: &libsais::LibsaisError) -> ! {
    panic!("libsais could not build the suffix array (out of memory?): {e:?}")
}

/// Writes the last column through `put(row, position in s)` and returns the index.
///
/// `t[j] = s[(j + r) mod n]`, so the symbol before rotation `j` of `t` is `s[(j + r - 1) mod n]`:
/// reading it from `s` lets the caller overwrite `t` with the output.
fn finish(
    sa: &SuffixArray,
    n: usize,
    r: usize,
    p: usize,
    mut put: impl FnMut(usize, usize),
) -> usize {
    let target = n - p + ((n - r) % n) % p;
    let mut index = 0;
    sa.for_each(|k, j| {
        if j == target {
            index = k;
        }
        let x = j + r;
        let x = if x >= n { x - n } else { x };
        put(k, if x == 0 { n - 1 } else { x - 1 });
    });
    index
}

/// The rotation BWT of any ordered symbols.
///
/// Symbols are replaced by their ranks among the distinct symbols (O(n log n) for the sort);
/// up to 256 distinct symbols take the bytes path.
pub(crate) fn bwt_generic<T: Ord + Copy>(s: &[T]) -> (Vec<T>, usize) {
    let n = s.len();
    if n == 0 {
        return (Vec::new(), 0);
    }
    let mut alphabet = s.to_vec();
    alphabet.sort_unstable();
    alphabet.dedup();
    let rank = |c: &T| alphabet.binary_search(c).unwrap_or_default();
    if alphabet.len() <= 256 {
        let ranks: Vec<u8> = s.iter().map(|c| rank(c) as u8).collect();
        let (last, index) = bwt_bytes(&ranks);
        return (last.iter().map(|&c| alphabet[c as usize]).collect(), index);
    }
    let (r, p) = least_rotation(s);
    let rotated = s[r..].iter().chain(&s[..r]);
    let sa = if i32::try_from(n).is_ok() {
        // Ranks are below n, so they fit too.
        let mut text: Vec<i32> = rotated.map(|c| rank(c) as i32).collect();
        SuffixArray::for_ranks32(&mut text)
    } else {
        let mut text: Vec<i64> = rotated.map(|c| rank(c) as i64).collect();
        SuffixArray::for_ranks64(&mut text)
    };
    let mut last = vec![s[0]; n];
    let index = finish(&sa, n, r, p, |k, x| last[k] = s[x]);
    (last, index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bwt::tests::naive;
    use proptest::strategy::Strategy;

    #[test]
    fn least_rotation_and_period() {
        assert_eq!(least_rotation(b"banana"), (5, 6));
        assert_eq!(least_rotation(b"abab"), (0, 2));
        assert_eq!(least_rotation(b"baba"), (1, 2));
        assert_eq!(least_rotation(b"aaaa"), (0, 1));
        assert_eq!(least_rotation(b"x"), (0, 1));
        assert_eq!(least_rotation(b"cabcab"), (1, 3));
    }

    /// The rotation BWT through [`rotation_bwt_of_least`] with the given sampling.
    fn sampled(s: &[u8], rate: usize, block: usize) -> (Vec<u8>, usize) {
        if s.is_empty() {
            return (Vec::new(), 0);
        }
        let (r, p) = least_rotation(s);
        let mut t = [&s[r..], &s[..r]].concat();
        let index = rotation_bwt_of_least(&mut t, r, p, rate, block, Engine::Libsais32);
        // The unsigned 32-bit SA-IS (used from 2^31 bytes on) and libsais64 (from 2^32)
        // must agree.
        for engine in [Engine::Unsigned32, Engine::Libsais64] {
            let mut other = [&s[r..], &s[..r]].concat();
            assert_eq!(
                rotation_bwt_of_least(&mut other, r, p, rate, block, engine),
                index,
                "{engine:?}"
            );
            assert_eq!(other, t, "{engine:?}");
        }
        (t, index)
    }

    #[test]
    fn every_sample_rate_and_block_gives_the_same_index() {
        // Small rates make the walk start from real samples (not only from the `$` row),
        // small blocks make it count across blocks.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut texts: Vec<Vec<u8>> = vec![b"^BANANA|".to_vec(), b"abab".to_vec(), b"x".to_vec()];
        for n in [2usize, 3, 7, 64, 65, 200] {
            texts.push(
                (0..n)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        b"abc"[(x % 3) as usize]
                    })
                    .collect(),
            );
        }
        texts.push(b"abcab".repeat(13));
        texts.push(b"ba".repeat(50));
        texts.push(vec![b'z'; 100]);
        for s in &texts {
            let expected = naive(s);
            for rate in [2, 4, 8, 64, 4096] {
                for block in [1, 2, 5, 64, 16384] {
                    assert_eq!(sampled(s, rate, block), expected, "{s:?} {rate} {block}");
                }
            }
            let mut buf = s.clone();
            let index = bwt_bytes_in_place(&mut buf);
            assert_eq!((buf, index), expected);
        }
    }

    proptest::proptest! {
        #[test]
        fn sampled_walk_agrees_with_the_naive_sort(
            w in proptest::collection::vec(0u8..3, 1..40),
            k in 1usize..6,
            tail in proptest::collection::vec(0u8..3, 0..5),
            rate_log in 1u32..7,
            block in 1usize..70,
        ) {
            let s = [w.repeat(k), tail].concat();
            proptest::prop_assert_eq!(sampled(&s, 1 << rate_log, block), naive(&s));
        }
    }

    /// The rotation BWT of `s` through `engine`.
    fn with_engine(s: &[u8], engine: Engine) -> (Vec<u8>, usize) {
        if s.is_empty() {
            return (Vec::new(), 0);
        }
        let (r, p) = least_rotation_bytes(s);
        let mut t = [&s[r..], &s[..r]].concat();
        let index = rotation_bwt_of_least(&mut t, r, p, SAMPLE_RATE, OCC_BLOCK, engine);
        (t, index)
    }

    proptest::proptest! {
        #[test]
        fn unsigned32_agrees_with_the_naive_sort_and_libsais(
            s in proptest::prop_oneof![
                crate::bwt::tests::texts(),
                "[a-z ,.\n]{0,300}".prop_map(String::into_bytes),
            ],
        ) {
            let ours = with_engine(&s, Engine::Unsigned32);
            proptest::prop_assert_eq!(&ours, &naive(&s));
            proptest::prop_assert_eq!(&ours, &with_engine(&s, Engine::Libsais32));
        }
    }

    #[test]
    fn unsigned32_agrees_with_libsais_on_large_inputs() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let random: Vec<u8> = (0..300_000).map(|_| next() as u8).collect();
        let words = [
            &b"the "[..],
            b"cat ",
            b"sat ",
            b"on ",
            b"a ",
            b"mat\n",
            b"notes ",
        ];
        let text: Vec<u8> = (0..200_000)
            .flat_map(|_| words[(next() % 7) as usize].iter().copied())
            .collect();
        let mut repetitive = random[..1000].repeat(400);
        repetitive[123_456] ^= 1;
        let periodic = b"abaababaab".repeat(100_000);
        let runs: Vec<u8> = (0..100_000)
            .flat_map(|_| vec![(next() % 3) as u8; 1 + (next() % 9) as usize])
            .collect();
        for s in [random, text, repetitive, periodic, runs] {
            assert_eq!(
                with_engine(&s, Engine::Unsigned32),
                with_engine(&s, Engine::Libsais32),
                "{} bytes",
                s.len()
            );
        }
    }

    #[test]
    fn least_rotation_agrees_with_brute_force() {
        for n in 1..=9u32 {
            for code in 0..3u32.pow(n) {
                let s: Vec<u8> = (0..n).map(|i| ((code / 3u32.pow(i)) % 3) as u8).collect();
                let n = s.len();
                let rot = |r: usize| [&s[r..], &s[..r]].concat();
                let r = (0..n).min_by_key(|&r| rot(r)).unwrap_or(0);
                let t = rot(r);
                let p = (1..=n)
                    .find(|&p| n.is_multiple_of(p) && t == rot((r + p) % n))
                    .unwrap_or(n);
                assert_eq!(least_rotation_bytes(&s), (r, p), "{s:?}");
                assert_eq!(least_rotation(&s), (r, p), "{s:?}");
            }
        }
        let long: Vec<u8> = b"the cat sat on the mat\n".repeat(5);
        assert_eq!(least_rotation_bytes(&long), least_rotation(&long));
        assert_eq!(least_rotation_bytes(&long).1, 23);
    }

    #[test]
    fn exhaustive_small_binary_and_ternary() {
        for n in 1..=8u32 {
            for code in 0..3u32.pow(n) {
                let s: Vec<u8> = (0..n)
                    .map(|i| b'a' + ((code / 3u32.pow(i)) % 3) as u8)
                    .collect();
                assert_eq!(
                    bwt_bytes(&s),
                    naive(&s),
                    "{:?}",
                    String::from_utf8_lossy(&s)
                );
            }
        }
    }
}
