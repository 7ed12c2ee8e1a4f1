//! The inverse transform in O(n) through the LF mapping, with validation of its input.
//!
//! `LF(i) = C[L[i]] + rank of L[i] among L[..i]` sends the row of the rotation starting at `j`
//! to the row of the rotation starting at `j - 1`. The walk here follows its inverse `ψ`
//! (built in one pass: `ψ[C[c]++] = i` for each `i`, `c = L[i]`), so the text comes out front
//! to back: from row `index` (the text itself), emit the first symbol of the row and go to
//! `ψ[row]`. The walk is one dependent random access per step, bound by memory latency, so
//! each step is made to cover as much as it can: the byte path walks `ψ²` and emits two
//! symbols per step (the first two symbols of a row come from its bucket among the 65,536
//! two-byte prefixes, found through a small table that stays in cache), halving the chain; the
//! path for larger alphabets finds a row's first symbol the same way from the one-symbol
//! buckets. Either way a step touches one cache line of the row array, where the textbook walk
//! also reads `L` at a random row.
//!
//! # Which inputs are valid
//!
//! Not every `(L, index)` is the BWT of a string. `L` is the rotation BWT of a primitive word
//! exactly when its standard permutation (`ψ` above) is one cycle (Crochemore, Désarménien and
//! Perrin, 2005). The text `w^k` of a primitive `w` of length `p` has each rotation of `w` `k`
//! times in a row, so its `L` is `bwt(w)` with each symbol repeated `k` times, and its index is
//! `k` times that of `w`; for such an `L`, `ψ(k·j + t) = k·ψ_w(j) + t`, so the cycle through the
//! index has exactly `p` rows. The walk measures `p`, the length of the cycle through `index`,
//! and the input is accepted iff `p` divides `n`, `index` is a multiple of `k = n / p`, and `L`
//! is made of runs of `k` equal symbols at multiples of `k`: then `L` is the stuttered BWT of a
//! primitive word and the walk has produced `w^k`. The walk always stops after `n` steps, so no
//! input can make it loop.

use crate::Error;

/// A symbol rank usable as a bucket number.
pub(crate) trait Symbol: Copy + PartialEq {
    fn idx(self) -> usize;
    fn from_idx(i: usize) -> Self;
}

impl Symbol for u8 {
    #[inline]
    fn idx(self) -> usize {
        self as usize
    }
    #[inline]
    fn from_idx(i: usize) -> Self {
        i as u8
    }
}

impl Symbol for u32 {
    #[inline]
    fn idx(self) -> usize {
        self as usize
    }
    #[inline]
    fn from_idx(i: usize) -> Self {
        i as u32
    }
}

impl Symbol for usize {
    #[inline]
    fn idx(self) -> usize {
        self
    }
    #[inline]
    fn from_idx(i: usize) -> Self {
        i
    }
}

/// A row number: `u32` below 2^32 rows, `u64` above.
trait Row: Copy {
    const ZERO: Self;
    fn from_usize(i: usize) -> Self;
    fn to_usize(self) -> usize;
}

impl Row for u32 {
    const ZERO: Self = 0;
    #[inline]
    fn from_usize(i: usize) -> Self {
        i as u32
    }
    #[inline]
    fn to_usize(self) -> usize {
        self as usize
    }
}

impl Row for u64 {
    const ZERO: Self = 0;
    #[inline]
    fn from_usize(i: usize) -> Self {
        i as u64
    }
    #[inline]
    fn to_usize(self) -> usize {
        self as usize
    }
}

/// Inverts the BWT of ranks below `k`.
pub(crate) fn inverse<S: Symbol>(last: &[S], k: usize, index: usize) -> Result<Vec<S>, Error> {
    let n = last.len();
    check_index(n, index)?;
    if n == 0 {
        return Ok(Vec::new());
    }
    let starts = bucket_starts(last, k);
    let (out, period) = if u32::try_from(n).is_ok() {
        walk::<S, u32>(last, &starts, index)
    } else {
        walk::<S, u64>(last, &starts, index)
    };
    validate(n, index, period, |k| first_mixed_run(last, k))?;
    Ok(out)
}

/// Inverts the BWT of bytes, two symbols per step of the walk (see [`PairWalk`]).
pub(crate) fn inverse_bytes(last: &[u8], index: usize) -> Result<Vec<u8>, Error> {
    let n = last.len();
    check_index(n, index)?;
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut out = vec![0u8; n];
    let period = if u32::try_from(n).is_ok() {
        PairWalk::<u32>::new(last, index).run(index, &mut out)
    } else {
        PairWalk::<u64>::new(last, index).run(index, &mut out)
    };
    validate(n, index, period, |k| first_mixed_run(last, k))?;
    Ok(out)
}

/// [`inverse_bytes`] in place: `buf` (the last column) becomes the text. The walk never reads
/// the last column (only the tables built from it), so it can write over it; what validation
/// needs from it afterwards is kept first, as the gcd of `n` and the rows where the symbol
/// changes (the runs of `k` equal symbols at multiples of `k` are there iff `k` divides it).
/// On error `buf` holds unspecified bytes.
pub(crate) fn inverse_bytes_in_place(buf: &mut [u8], index: usize) -> Result<(), Error> {
    let n = buf.len();
    check_index(n, index)?;
    if n == 0 {
        return Ok(());
    }
    let runs = run_gcd(buf);
    let period = if u32::try_from(n).is_ok() {
        let walk = PairWalk::<u32>::new(buf, index);
        walk.run(index, buf)
    } else {
        let walk = PairWalk::<u64>::new(buf, index);
        walk.run(index, buf)
    };
    validate(n, index, period, |k| {
        if runs.is_multiple_of(k) {
            None
        } else {
            Some(format!(
                "its rows must come in runs of {k} equal symbols, and they do not"
            ))
        }
    })
}

/// The gcd of `last.len()` and every row `i` where `last[i] != last[i - 1]`.
fn run_gcd(last: &[u8]) -> usize {
    let gcd = |mut a: usize, mut b: usize| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let mut g = last.len();
    for (i, w) in (1..).zip(last.windows(2)) {
        if w[0] != w[1] {
            g = gcd(g, i);
            if g == 1 {
                break;
            }
        }
    }
    g
}

/// The walk over `ψ²` for bytes: each step emits the first two symbols of its row and jumps
/// two rows ahead, so the chain of dependent memory accesses is half as long (libsais' unbwt
/// does the same).
///
/// The rows whose rotations start with `ab` are ordered as the rotations two positions later
/// (which end in `ab`), so `ψ²` fills bucket `ab` with the rows `j` in increasing order whose
/// last two symbols are `ab`: `b = L[j]` and `a = L[LF(j)]`, where `LF(j)` comes from a
/// sequential count. Reading `L[LF(j)]` is random but independent from step to step, unlike the
/// walk, which reads only `ψ²` and the pair buckets, never `L`.
struct PairWalk<X> {
    psi2: Vec<X>,
    start2: Vec<usize>,
    /// `table[row >> shift]` is the pair bucket of the first row of that slice of rows.
    table: Vec<u16>,
    shift: u32,
    psi_index: usize,
    lf_index: usize,
}

impl<X: Row> PairWalk<X> {
    /// Builds `ψ²` and the pair buckets from `last` (two sequential passes).
    fn new(last: &[u8], index: usize) -> Self {
        let n = last.len();
        let starts = bucket_starts(last, 256);
        // One pass per use: the pair counts, then the rows; both recompute LF sequentially.
        let pairs = |f: &mut dyn FnMut(usize, usize, usize)| {
            let mut next = starts.clone();
            for (j, &b) in last.iter().enumerate() {
                let lf = next[b as usize];
                next[b as usize] += 1;
                f(j, lf, (last[lf] as usize) << 8 | b as usize);
            }
        };
        let mut start2 = vec![0usize; (1 << 16) + 1];
        let (mut psi_index, mut lf_index) = (index, index);
        pairs(&mut |j, lf, ab| {
            start2[ab + 1] += 1;
            if lf == index {
                psi_index = j;
            }
            if j == index {
                lf_index = lf;
            }
        });
        for c in 0..1 << 16 {
            start2[c + 1] += start2[c];
        }
        let mut psi2 = vec![X::ZERO; n];
        {
            let mut next2 = start2.clone();
            pairs(&mut |j, _, ab| {
                psi2[next2[ab]] = X::from_usize(j);
                next2[ab] += 1;
            });
        }
        let shift = (usize::BITS - n.leading_zeros()).saturating_sub(16);
        let table: Vec<u16> = (0..=((n - 1) >> shift))
            .map(|t| (start2.partition_point(|&s| s <= t << shift) - 1) as u16)
            .collect();
        PairWalk {
            psi2,
            start2,
            table,
            shift,
            psi_index,
            lf_index,
        }
    }

    /// The first two symbols of a row: its slice's first bucket, then a short scan.
    #[inline]
    fn pair_of(&self, row: usize) -> usize {
        let mut c = self.table[row >> self.shift] as usize;
        while self.start2[c + 1] <= row {
            c += 1;
        }
        c
    }

    /// Writes the text into `out` (as long as the last column); returns the length of the
    /// cycle of `ψ` through `index`: a return at an odd step shows as reaching `ψ(index)`
    /// after an even one.
    fn run(&self, index: usize, out: &mut [u8]) -> usize {
        let n = out.len();
        let (mut row, mut period) = (index, 0);
        let mut pairs = out.chunks_exact_mut(2);
        for (m, pair) in (1..).zip(&mut pairs) {
            let ab = self.pair_of(row);
            pair[0] = (ab >> 8) as u8;
            pair[1] = ab as u8;
            row = self.psi2[row].to_usize();
            if period == 0 {
                if row == self.psi_index {
                    period = 2 * m - 1;
                } else if row == index {
                    period = 2 * m;
                }
            }
        }
        if let [single] = pairs.into_remainder() {
            *single = (self.pair_of(row) >> 8) as u8;
            if period == 0 && row == self.lf_index {
                period = n;
            }
        }
        period
    }
}

fn check_index(n: usize, index: usize) -> Result<(), Error> {
    if index >= n.max(1) {
        return Err(Error::BwtIndex { index, len: n });
    }
    Ok(())
}

/// `starts[c]` = how many symbols are below `c`; `starts[k] = n`.
fn bucket_starts<S: Symbol>(last: &[S], k: usize) -> Vec<usize> {
    let mut starts = vec![0usize; k + 1];
    for &c in last {
        starts[c.idx() + 1] += 1;
    }
    for c in 0..k {
        starts[c + 1] += starts[c];
    }
    starts
}

/// The walk over `ψ`; returns the text and the length of the cycle through `index`.
fn walk<S: Symbol, X: Row>(last: &[S], starts: &[usize], index: usize) -> (Vec<S>, usize) {
    let n = last.len();
    let k = starts.len() - 1;
    let mut psi = vec![X::ZERO; n];
    {
        let mut next = starts[..k].to_vec();
        for (i, &c) in last.iter().enumerate() {
            let c = c.idx();
            psi[next[c]] = X::from_usize(i);
            next[c] += 1;
        }
    }
    // The first symbol of a row is the bucket holding it: `table[row >> shift]` is the bucket
    // of the first row of that slice of rows, and a short scan skips to the right one.
    let shift = (usize::BITS - n.leading_zeros()).saturating_sub(15);
    let table: Vec<usize> = (0..=((n - 1) >> shift))
        .map(|t| starts.partition_point(|&s| s <= t << shift) - 1)
        .collect();
    let mut out = Vec::with_capacity(n);
    let (mut row, mut period) = (index, 0);
    for j in 1..=n {
        let mut c = table[row >> shift];
        while starts[c + 1] <= row {
            c += 1;
        }
        out.push(S::from_idx(c));
        row = psi[row].to_usize();
        if row == index && period == 0 {
            period = j;
        }
    }
    (out, period)
}

/// Accepts `(last, index)` iff it is the BWT of the text the walk produced (see the module
/// docs); `period` is the length of the cycle through `index`, and `mixed_run(k)` describes a
/// run of `k` rows (at a multiple of `k`) that does not hold one symbol, if there is one.
fn validate(
    n: usize,
    index: usize,
    period: usize,
    mixed_run: impl FnOnce(usize) -> Option<String>,
) -> Result<(), Error> {
    let invalid = |reason: String| Error::NotBwt {
        len: n,
        index,
        reason,
    };
    if period == 0 || !n.is_multiple_of(period) {
        return Err(invalid(format!(
            "following it from row {index} comes back after {period} rows, which does not divide the length"
        )));
    }
    let k = n / period;
    if k > 1 {
        if !index.is_multiple_of(k) {
            return Err(invalid(format!(
                "the text would repeat a {period}-symbol word {k} times, so its row must be a multiple of {k}"
            )));
        }
        if let Some(why) = mixed_run(k) {
            return Err(invalid(format!(
                "the text would repeat a {period}-symbol word {k} times, so {why}"
            )));
        }
    }
    Ok(())
}

/// The first run of `k` rows of `last` (at a multiple of `k`) with two different symbols.
fn first_mixed_run<S: Symbol>(last: &[S], k: usize) -> Option<String> {
    let (run, _) = last
        .chunks_exact(k)
        .enumerate()
        .find(|(_, chunk)| chunk.iter().any(|&c| c != chunk[0]))?;
    Some(format!(
        "rows {} to {} must hold one symbol",
        run * k,
        run * k + k - 1
    ))
}
