//! SA-IS (Nong, Zhang and Chan's induced sorting) with unsigned 32-bit indices, for texts of
//! 2^31 to 2^32 - 1 bytes, where libsais' 32-bit version stops (it keeps marks in the sign
//! bit) and libsais64 would need an 8-byte work array.
//!
//! Indices are at most `n - 1 ≤ 2^32 - 2`, so `u32::MAX` is free to mark an empty slot. The
//! L/S types live in a bit vector (`n / 8` bytes per level, `n / 4` over all levels, since
//! each level is at most half as long as the one above), buckets are recomputed from the text
//! whenever they are needed, and the reduced problem lives inside the suffix array's own
//! space (its names at the end, its suffix array at the start), as in Nong's and Yuta Mori's
//! designs. The text has no sentinel: a virtual one, smaller than every symbol, follows the
//! last symbol, so the suffix `n - 1` is L-type and the order is the usual one (a proper
//! prefix sorts first).
//!
//! Memory: the suffix array (4 bytes per symbol), the type bits and the bucket arrays: 256
//! entries at the top level; below, one entry per distinct name, kept in the part of the
//! suffix array that the reduced problem leaves free when it fits there, allocated otherwise.

/// An empty suffix-array slot.
const EMPTY: u32 = u32::MAX;

/// L/S types, one bit per position: set for S-type.
struct Types(Vec<u64>);

impl Types {
    /// Types of `s` followed by a virtual sentinel below every symbol.
    fn of<T: Copy + Into<u32>>(s: &[T]) -> Self {
        let n = s.len();
        let mut bits = vec![0u64; n.div_ceil(64)];
        // s[n - 1] > sentinel: L-type (bit clear).
        let mut next_s = false;
        for i in (0..n.saturating_sub(1)).rev() {
            let (a, b): (u32, u32) = (s[i].into(), s[i + 1].into());
            next_s = a < b || (a == b && next_s);
            if next_s {
                bits[i / 64] |= 1 << (i % 64);
            }
        }
        Types(bits)
    }

    #[inline]
    fn is_s(&self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 == 1
    }

    /// Left-most S: S-type after an L-type (the sentinel, position `n`, is not asked).
    #[inline]
    fn is_lms(&self, i: usize) -> bool {
        i > 0 && self.is_s(i) && !self.is_s(i - 1)
    }
}

/// Fills `bkt[c]` with the start (`end == false`) or one past the end of bucket `c`.
fn buckets<T: Copy + Into<u32>>(s: &[T], bkt: &mut [u32], end: bool) {
    bkt.fill(0);
    for &c in s {
        bkt[c.into() as usize] += 1;
    }
    let mut sum = 0u32;
    for b in bkt.iter_mut() {
        sum += *b;
        *b = if end { sum } else { sum - *b };
    }
}

/// Induces the L-type suffixes from the sorted LMS ones (placed at their bucket ends), then
/// the S-type suffixes from the L-type ones.
fn induce<T: Copy + Into<u32>>(s: &[T], sa: &mut [u32], types: &Types, bkt: &mut [u32]) {
    let n = s.len();
    let chr = |i: usize| -> usize { s[i].into() as usize };
    buckets(s, bkt, false);
    // The sentinel sorts first; the suffix before it, n - 1, is L-type.
    let c = chr(n - 1);
    sa[bkt[c] as usize] = (n - 1) as u32;
    bkt[c] += 1;
    // Only LMS and L-type suffixes are scanned here. Before an LMS suffix comes an L-type
    // one; before an L-type suffix `j`, `j - 1` is L-type iff `s[j - 1] ≥ s[j]`. So the
    // symbols alone decide, without the type bits (one cache miss less per step).
    for i in 0..n {
        let j = sa[i];
        if j != EMPTY && j > 0 {
            let j = j as usize;
            let c = chr(j - 1);
            debug_assert_eq!(c >= chr(j), !types.is_s(j - 1));
            if c >= chr(j) {
                sa[bkt[c] as usize] = (j - 1) as u32;
                bkt[c] += 1;
            }
        }
    }
    buckets(s, bkt, true);
    for i in (0..n).rev() {
        let j = sa[i];
        if j != EMPTY && j > 0 {
            let j = j as usize - 1;
            if types.is_s(j) {
                let c = chr(j);
                bkt[c] -= 1;
                sa[bkt[c] as usize] = j as u32;
            }
        }
    }
}

/// The suffix array of `s` (alphabet `0..k`, at most `u32::MAX` symbols) into `sa`.
///
/// # Panics
///
/// If `s` has more than `u32::MAX` symbols, a symbol is not below `k` or `sa` is not as long
/// as `s`.
pub(crate) fn suffix_array<T: Copy + Into<u32>>(s: &[T], sa: &mut [u32], k: usize) {
    assert!(u32::try_from(s.len()).is_ok() && sa.len() == s.len());
    sais(s, sa, k, &mut []);
}

/// One level of SA-IS; `spare` is free memory the bucket array may use.
fn sais<T: Copy + Into<u32>>(s: &[T], sa: &mut [u32], k: usize, spare: &mut [u32]) {
    let n = s.len();
    match n {
        0 => return,
        1 => {
            sa[0] = 0;
            return;
        }
        _ => {}
    }
    let types = Types::of(s);
    let chr = |i: usize| -> u32 { s[i].into() };
    let mut owned = Vec::new();
    let bkt: &mut [u32] = if spare.len() >= k {
        &mut spare[..k]
    } else {
        owned.resize(k, 0);
        &mut owned
    };

    // Stage 1: sort the LMS substrings by induced sorting from their positions in text order.
    sa.fill(EMPTY);
    buckets(s, bkt, true);
    for i in 1..n {
        if types.is_lms(i) {
            let c = chr(i) as usize;
            bkt[c] -= 1;
            sa[bkt[c] as usize] = i as u32;
        }
    }
    induce(s, sa, &types, bkt);

    // Compact the sorted LMS substrings into sa[..m].
    let mut m = 0;
    for i in 0..n {
        let j = sa[i] as usize;
        if types.is_lms(j) {
            sa[m] = j as u32;
            m += 1;
        }
    }
    // No LMS position: s is non-increasing, every suffix L-type; the induced order is final.
    if m == 0 {
        return induce_from_lms(s, sa, &types, bkt, 0);
    }

    // Name the LMS substrings: equal substrings (same symbols and types up to and including
    // the next LMS position) get equal names. LMS positions are at least 2 apart, so position
    // j's name goes to sa[m + j / 2], which m ≤ n / 2 keeps inside sa.
    sa[m..].fill(EMPTY);
    let mut name = 0u32;
    let mut prev: Option<usize> = None;
    for i in 0..m {
        let pos = sa[i] as usize;
        let differs = match prev {
            None => true,
            Some(prev) => {
                let mut d = 0;
                loop {
                    if pos + d == n
                        || prev + d == n
                        || chr(pos + d) != chr(prev + d)
                        || types.is_s(pos + d) != types.is_s(prev + d)
                    {
                        break true;
                    }
                    if d > 0 && types.is_lms(pos + d) {
                        break false;
                    }
                    d += 1;
                }
            }
        };
        if differs {
            name += 1;
            prev = Some(pos);
        }
        sa[m + pos / 2] = name - 1;
    }
    // Move the names, in text order, to the end: the reduced string s1 = sa[n - m..].
    let mut j = n;
    for i in (m..n).rev() {
        if sa[i] != EMPTY {
            j -= 1;
            sa[j] = sa[i];
        }
    }
    debug_assert_eq!(j, n - m);

    // Stage 2: the suffix array of the reduced string into sa[..m].
    {
        let (lo, s1) = sa.split_at_mut(n - m);
        let (sa1, free) = lo.split_at_mut(m);
        if (name as usize) < m {
            sais(&*s1, sa1, name as usize, free);
        } else {
            for (i, &c) in s1.iter().enumerate() {
                sa1[c as usize] = i as u32;
            }
        }
    }

    // Stage 3: map the reduced suffix array back to LMS positions, sorted, into sa[..m].
    let mut j = n - m;
    for i in 1..n {
        if types.is_lms(i) {
            sa[j] = i as u32;
            j += 1;
        }
    }
    for i in 0..m {
        sa[i] = sa[n - m + sa[i] as usize];
    }
    induce_from_lms(s, sa, &types, bkt, m);
}

/// From the `m` sorted LMS suffixes in `sa[..m]`, places them at their bucket ends (largest
/// first, so none is overwritten before it moves) and induces the full suffix array.
fn induce_from_lms<T: Copy + Into<u32>>(
    s: &[T],
    sa: &mut [u32],
    types: &Types,
    bkt: &mut [u32],
    m: usize,
) {
    sa[m..].fill(EMPTY);
    buckets(s, bkt, true);
    for i in (0..m).rev() {
        let j = sa[i];
        sa[i] = EMPTY;
        let c = s[j as usize].into() as usize;
        bkt[c] -= 1;
        sa[bkt[c] as usize] = j;
    }
    induce(s, sa, types, bkt);
}

/// The rotation BWT of `t`, the least rotation of the input, in place; `target` is the
/// suffix whose rank is the index (see `forward`). Memory: `t`, the 4-byte suffix array and
/// the type bits: about 5.25 bytes per byte.
///
/// Row `k`'s last symbol is `t[SA[k] - 1]`, read cyclically. Byte `k` of the output goes into
/// the suffix array's own slot `k / 4`, which is already read, so the last column needs no
/// buffer of its own before it is copied over `t`.
pub(crate) fn rotation_bwt(t: &mut [u8], target: usize) -> usize {
    let n = t.len();
    debug_assert!(n > 0 && target < n);
    let mut sa = vec![0u32; n];
    suffix_array(t, &mut sa, 256);
    let mut index = 0;
    let mut word = [0u8; 4];
    for k in 0..n {
        let j = sa[k] as usize;
        if j == target {
            index = k;
        }
        word[k % 4] = t[if j == 0 { n - 1 } else { j - 1 }];
        if k % 4 == 3 {
            sa[k / 4] = u32::from_ne_bytes(word);
        }
    }
    if !n.is_multiple_of(4) {
        sa[n / 4] = u32::from_ne_bytes(word);
    }
    for (chunk, &w) in t.chunks_mut(4).zip(&sa) {
        chunk.copy_from_slice(&w.to_ne_bytes()[..chunk.len()]);
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_sa(s: &[u8]) -> Vec<u32> {
        let mut sa: Vec<u32> = (0..s.len() as u32).collect();
        sa.sort_by_key(|&i| &s[i as usize..]);
        sa
    }

    fn check(s: &[u8]) {
        let mut sa = vec![0u32; s.len()];
        suffix_array(s, &mut sa, 256);
        assert_eq!(sa, naive_sa(s), "{:?}", String::from_utf8_lossy(s));
    }

    fn fibonacci(n: usize) -> Vec<u8> {
        let (mut a, mut b) = (b"a".to_vec(), b"ab".to_vec());
        while b.len() < n {
            let next = [&b[..], &a[..]].concat();
            a = b;
            b = next;
        }
        b.truncate(n);
        b
    }

    #[test]
    fn suffix_arrays_of_small_texts_and_recursion() {
        for s in [
            &b""[..],
            b"a",
            b"ab",
            b"ba",
            b"aa",
            b"banana",
            b"mmiissiissiippii",
            b"mississippi",
            b"^BANANA|",
            b"abracadabra",
            b"aaaaaaaaaaaaab",
            b"baaaaaaaaaaaaa",
            b"abababababababab",
            b"zyxwvutsrqponm",
            b"abcdefghijklmn",
        ] {
            check(s);
        }
        for n in [1, 2, 3, 5, 8, 13, 100, 233, 1000, 4181] {
            check(&fibonacci(n));
        }
        let runs: Vec<u8> = (0..50u8)
            .flat_map(|i| vec![b'a' + i % 3; 1 + i as usize % 7])
            .collect();
        check(&runs);
        check(&b"mmiissiissiippii".repeat(40));
        check(&[[0u8].repeat(30), [255u8].repeat(30), [0u8].repeat(30)].concat());
    }

    #[test]
    fn integer_alphabet() {
        let s: Vec<u32> = [5u32, 1, 5, 1, 0, 5, 1, 5, 1, 0, 3].to_vec();
        let mut sa = vec![0u32; s.len()];
        suffix_array(&s, &mut sa, 6);
        let mut expected: Vec<u32> = (0..s.len() as u32).collect();
        expected.sort_by_key(|&i| &s[i as usize..]);
        assert_eq!(sa, expected);
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_a_naive_suffix_sort(
            w in proptest::collection::vec(0u8..4, 0..60),
            k in 1usize..5,
            tail in proptest::collection::vec(0u8..4, 0..10),
        ) {
            let s = [w.repeat(k), tail].concat();
            let mut sa = vec![0u32; s.len()];
            suffix_array(&s, &mut sa, 256);
            proptest::prop_assert_eq!(sa, naive_sa(&s));
        }
    }
}
