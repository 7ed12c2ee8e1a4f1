//! The forward transform in the notes' rotation form, in linear time through a suffix array.
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

use libsais::SuffixArrayConstruction;

/// Start `r` of the least rotation of `s` (the smallest `r` if several are equal) and the
/// length `p` of its primitive root, both in O(n) time and O(1) extra memory.
///
/// Duval's Lyndon factorisation of `s + s` (read cyclically, never built) starts its last
/// factor run at or before `n` with the least rotation; the smallest period of that rotation
/// is the length of its first Lyndon factor.
pub(crate) fn least_rotation<T: Ord>(s: &[T]) -> (usize, usize) {
    let n = s.len();
    debug_assert!(n > 0);
    let at = |x: usize| if x < n { &s[x] } else { &s[x - n] };
    let (mut i, mut start) = (0, 0);
    while i < n {
        start = i;
        let (mut j, mut k) = (i + 1, i);
        while j < 2 * n && at(k) <= at(j) {
            if at(k) < at(j) {
                k = i;
            } else {
                k += 1;
            }
            j += 1;
        }
        while i <= k {
            i += j - k;
        }
    }
    // The least rotation t = u^k; Duval's first step on t runs to its end, and j - k is |u|.
    let t = |x: usize| at(start + x);
    let (mut j, mut k) = (1, 0);
    while j < n && t(k) <= t(j) {
        if t(k) < t(j) {
            k = 0;
        } else {
            k += 1;
        }
        j += 1;
    }
    (start, j - k)
}

/// A suffix array with the narrowest index type libsais offers for the length.
enum SuffixArray {
    Narrow(Vec<i32>),
    Wide(Vec<i64>),
}

impl SuffixArray {
    fn for_bytes(t: &[u8]) -> Self {
        if i32::try_from(t.len()).is_ok() {
            let mut sa = vec![0i32; t.len()];
            SuffixArrayConstruction::for_text(t)
                .in_borrowed_buffer(&mut sa)
                .single_threaded()
                .run()
                .unwrap_or_else(|e| sais_failed(&e));
            SuffixArray::Narrow(sa)
        } else {
            let mut sa = vec![0i64; t.len()];
            SuffixArrayConstruction::for_text(t)
                .in_borrowed_buffer(&mut sa)
                .single_threaded()
                .run()
                .unwrap_or_else(|e| sais_failed(&e));
            SuffixArray::Wide(sa)
        }
    }

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

/// The rotation BWT of bytes: last column and the first row holding `s`.
///
/// Memory: `s`, one copy of the least rotation (reused for the output) and a 4-byte suffix
/// array below 2^31 bytes: 6 bytes per input byte.
pub(crate) fn bwt_bytes(s: &[u8]) -> (Vec<u8>, usize) {
    let n = s.len();
    if n == 0 {
        return (Vec::new(), 0);
    }
    let (r, p) = least_rotation(s);
    let mut t = Vec::with_capacity(n);
    t.extend_from_slice(&s[r..]);
    t.extend_from_slice(&s[..r]);
    let sa = SuffixArray::for_bytes(&t);
    let index = finish(&sa, n, r, p, |k, x| t[k] = s[x]);
    (t, index)
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

    #[test]
    fn least_rotation_and_period() {
        assert_eq!(least_rotation(b"banana"), (5, 6));
        assert_eq!(least_rotation(b"abab"), (0, 2));
        assert_eq!(least_rotation(b"baba"), (1, 2));
        assert_eq!(least_rotation(b"aaaa"), (0, 1));
        assert_eq!(least_rotation(b"x"), (0, 1));
        assert_eq!(least_rotation(b"cabcab"), (1, 3));
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
