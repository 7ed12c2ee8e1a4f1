//! Permutations: in place ([`next_permutation`]), lazily by position ([`permutations`]),
//! without repeats for multisets ([`distinct_permutations`]), and counted exactly.

use crate::Error;

/// Rearranges `v` into the next permutation in lexicographic order and returns `true`;
/// on the last permutation it wraps to the first (sorted) one and returns `false`.
///
/// Equal items are respected: starting from sorted input, the calls visit each distinct
/// arrangement of a multiset exactly once. Nothing is allocated; each call does amortised
/// O(1) work.
///
/// ```
/// let mut v = *b"aab";
/// let mut seen = vec![v];
/// while notes_algo::next_permutation(&mut v) {
///     seen.push(v);
/// }
/// assert_eq!(seen, [*b"aab", *b"aba", *b"baa"]);
/// ```
pub fn next_permutation<T: Ord>(v: &mut [T]) -> bool {
    let n = v.len();
    if n < 2 {
        return false;
    }
    // The longest non-increasing suffix v[i..]; v[i - 1] is the pivot.
    let mut i = n - 1;
    while i > 0 && v[i - 1] >= v[i] {
        i -= 1;
    }
    if i == 0 {
        v.reverse();
        return false;
    }
    // The rightmost item of the suffix greater than the pivot.
    let mut j = n - 1;
    while v[j] <= v[i - 1] {
        j -= 1;
    }
    v.swap(i - 1, j);
    v[i..].reverse();
    true
}

/// n!: the number of permutations of `n` distinct items.
///
/// # Errors
/// [`Error::CountOverflow`] when n! does not fit in a `u128` (n > 34).
///
/// ```
/// assert_eq!(notes_algo::count_permutations(4)?, 24);
/// assert_eq!(notes_algo::count_permutations(34)?, 295_232_799_039_604_140_847_618_609_643_520_000_000);
/// assert!(notes_algo::count_permutations(35).is_err());
/// # Ok::<(), notes_algo::Error>(())
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn count_permutations(n: usize) -> Result<u128, Error> {
    (1..=n as u128)
        .try_fold(1u128, |acc, k| acc.checked_mul(k))
        .ok_or(Error::CountOverflow { len: n })
}

/// The number of distinct arrangements of `items` (the multinomial n! / (k₁!·k₂!·…) over the
/// multiplicities kᵢ of equal items), exact.
///
/// # Errors
/// [`Error::CountOverflow`] when the count does not fit in a `u128`.
///
/// ```
/// assert_eq!(notes_algo::count_distinct_permutations(b"aab")?, 3);
/// assert_eq!(notes_algo::count_distinct_permutations(b"aabbccddeeff")?, 7_484_400);
/// # Ok::<(), notes_algo::Error>(())
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn count_distinct_permutations<T: Ord>(items: &[T]) -> Result<u128, Error> {
    let mut sorted: Vec<&T> = items.iter().collect();
    sorted.sort_unstable();
    // The multinomial as a product of binomials C(k₁+…+kᵢ, kᵢ); every partial product is at
    // most the result, so an overflow here means the result does not fit.
    let overflow = || Error::CountOverflow { len: items.len() };
    let mut total = 1u128;
    let mut seen = 0u128;
    for group in sorted.chunk_by(|a, b| a == b) {
        let k = group.len() as u128;
        seen += k;
        total = total
            .checked_mul(binomial(seen, k).ok_or_else(overflow)?)
            .ok_or_else(overflow)?;
        if total == 0 {
            break;
        }
    }
    Ok(total)
}

/// C(n, k), exact, or `None` when it does not fit.
fn binomial(n: u128, k: u128) -> Option<u128> {
    let k = k.min(n - k);
    let mut c = 1u128;
    for i in 1..=k {
        // c·(n − k + i)/i is an integer; divide out gcd(c, i) first so only the result
        // can overflow, not the intermediate product.
        let g = gcd(c, i);
        let (c1, i1) = (c / g, i / g);
        c = c1.checked_mul((n - k + i) / i1)?;
    }
    Some(c)
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// All permutations of `items` in the notes' order: lexicographic by position, like Python's
/// `itertools.permutations` (equal items are not merged; see [`distinct_permutations`]).
///
/// The iterator yields a `Vec` per permutation (an allocation each, as itertools does);
/// [`Permutations::next_slice`] lends each one from an internal buffer instead, and
/// [`Permutations::for_each_slice`] runs a closure on each, allocating nothing per permutation.
/// For arrays, [`array_permutations`] is a real [`Iterator`] that allocates nothing: the
/// fastest path.
///
/// ```
/// let p: Vec<String> = notes_algo::permutations(&['1', '2', '3'])
///     .map(|v| v.into_iter().collect())
///     .collect();
/// assert_eq!(p, ["123", "132", "213", "231", "312", "321"]);
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn permutations<T: Clone>(items: &[T]) -> Permutations<T> {
    Permutations {
        items: items.to_vec(),
        positions: (0..items.len() as u32).collect(),
        phase: 0,
        cursor: Cursor::new(count_permutations(items.len()).ok()),
    }
}

/// The permutations of the characters of `s` (not bytes: non-ASCII text works), in the notes'
/// order: `find_permutations(s)`.
///
/// ```
/// let p: Vec<String> = notes_algo::string_permutations("hé").collect();
/// assert_eq!(p, ["hé", "éh"]);
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn string_permutations(s: &str) -> impl Iterator<Item = String> + use<> {
    let chars: Vec<char> = s.chars().collect();
    let mut perms = permutations(&chars);
    std::iter::from_fn(move || perms.next_slice().map(|p| p.iter().collect()))
}

/// The lazy iterator of [`permutations`].
#[derive(Debug, Clone)]
pub struct Permutations<T> {
    items: Vec<T>,
    /// The original position of each item of `items`; permuted in step with it.
    positions: Vec<u32>,
    /// Where the last five items are in their cycle of 120 orders (lengths ≥ 5).
    phase: u8,
    cursor: Cursor,
}

impl<T> Permutations<T> {
    /// The next permutation, lent from the iterator's buffer (no allocation).
    pub fn next_slice(&mut self) -> Option<&[T]> {
        if !self
            .cursor
            .step(|| advance(&mut self.items, &mut self.positions, &mut self.phase))
        {
            return None;
        }
        Some(&self.items)
    }

    /// How many permutations are left, when that fits in a `u128`.
    pub fn remaining(&self) -> Option<u128> {
        self.cursor.remaining()
    }

    /// Calls `f` on every remaining permutation, lent from the iterator's buffer: the
    /// fastest way through all of them (no allocation, and the moves between permutations
    /// run as straight-line code instead of one [`next_slice`](Self::next_slice) call each).
    ///
    /// ```
    /// let mut firsts = String::new();
    /// notes_algo::permutations(&['x', 'y', 'z']).for_each_slice(|p| firsts.push(p[0]));
    /// assert_eq!(firsts, "xxyyzz");
    /// ```
    pub fn for_each_slice(mut self, mut f: impl FnMut(&[T]))
    where
        T: Copy,
    {
        fold_rest(
            self.items.as_mut_slice(),
            &mut self.positions,
            (self.phase, self.cursor.started, self.cursor.done),
            (),
            |(), p| f(p),
        );
    }
}

/// How many trailing items [`Permutations`] moves by table.
const TAIL: usize = 5;

/// The 119 steps through the 120 orders of five items in lexicographic order (by rank),
/// each as three swaps `[a, b, c, d, e, f]`: a with b (the pivot with its successor), then
/// c with d and e with f (the reversal of the suffix; a swap of an index with itself is a
/// no-op).
const TAIL_STEPS: [[u8; 6]; 119] = {
    let mut t = [[0u8; 6]; 119];
    let mut v = [0u8, 1, 2, 3, 4];
    let mut k = 0;
    while k < 119 {
        let mut i = TAIL - 1;
        while v[i - 1] > v[i] {
            i -= 1;
        }
        let mut j = TAIL - 1;
        while v[j] < v[i - 1] {
            j -= 1;
        }
        let mut step = [(i - 1) as u8, j as u8, 0, 0, 0, 0];
        let x = v[i - 1];
        v[i - 1] = v[j];
        v[j] = x;
        // Reverse v[i..]: swap pairs from both ends (at most two swaps for four items).
        let (mut lo, mut hi) = (i, TAIL - 1);
        let mut s = 1;
        while s < 3 {
            let (c, d) = if lo < hi { (lo, hi) } else { (i, i) };
            let y = v[c];
            v[c] = v[d];
            v[d] = y;
            step[2 * s] = c as u8;
            step[2 * s + 1] = d as u8;
            if lo < hi {
                lo += 1;
                hi -= 1;
            }
            s += 1;
        }
        t[k] = step;
        k += 1;
    }
    t
};

/// Moves `items` to the next permutation by position; `false` after the last.
///
/// While the first n − 5 items stay put, the last five run through their 120 orders (by
/// position) with fixed moves from a table, three swaps at most, and `positions` is left
/// alone; only every 120th step needs the general search for a pivot.
#[inline]
fn advance<T>(items: &mut [T], positions: &mut [u32], phase: &mut u8) -> bool {
    let n = items.len();
    if n >= TAIL {
        let base = n - TAIL;
        if let Some(&step) = TAIL_STEPS.get(usize::from(*phase)) {
            *phase += 1;
            tail_step(&mut items[base..], step);
            return true;
        }
        // The last five items are now in decreasing order of position; make `positions`
        // say so (they still hold the ascending order of the cycle's start).
        *phase = 0;
        positions[base..].reverse();
    }
    advance_by_position(positions, items)
}

/// Where a permutation iterator stands: whether it has yielded its first item, whether it is
/// exhausted, and how many items are left (when that fits in a `u128`).
#[derive(Debug, Clone)]
struct Cursor {
    started: bool,
    done: bool,
    remaining: Option<u128>,
}

impl Cursor {
    fn new(remaining: Option<u128>) -> Self {
        Self {
            started: false,
            done: false,
            remaining,
        }
    }

    /// Moves to the next item (`advance` steps the buffer, except before the first item);
    /// `false` once there is none.
    #[inline]
    fn step(&mut self, advance: impl FnOnce() -> bool) -> bool {
        if self.done {
            return false;
        }
        if self.started {
            if !advance() {
                self.done = true;
                return false;
            }
        } else {
            self.started = true;
        }
        if let Some(r) = &mut self.remaining {
            *r -= 1;
        }
        true
    }

    fn remaining(&self) -> Option<u128> {
        if self.done { Some(0) } else { self.remaining }
    }
}

/// The exact `size_hint` for a count of remaining items, when it fits.
fn size_hint(remaining: Option<u128>) -> (usize, Option<usize>) {
    match remaining.map(usize::try_from) {
        Some(Ok(n)) => (n, Some(n)),
        _ => (usize::MAX, None),
    }
}

/// [`next_permutation`] on `positions`, mirrored on `items`, without any `Ord` on the items.
fn advance_by_position<T>(positions: &mut [u32], items: &mut [T]) -> bool {
    let n = positions.len();
    if n < 2 {
        return false;
    }
    let mut i = n - 1;
    while i > 0 && positions[i - 1] > positions[i] {
        i -= 1;
    }
    if i == 0 {
        return false;
    }
    let mut j = n - 1;
    while positions[j] < positions[i - 1] {
        j -= 1;
    }
    positions.swap(i - 1, j);
    items.swap(i - 1, j);
    positions[i..].reverse();
    items[i..].reverse();
    true
}

/// Applies one step of [`TAIL_STEPS`] to the last five items (three swaps, without branches:
/// a swap of an index with itself changes nothing).
#[inline(always)]
fn tail_step<T>(tail: &mut [T], [a, b, c, d, e, f]: [u8; 6]) {
    tail.swap(usize::from(a), usize::from(b));
    tail.swap(usize::from(c), usize::from(d));
    tail.swap(usize::from(e), usize::from(f));
}

/// The positions (bits 0 to 4) whose item one step of [`TAIL_STEPS`] changes.
const fn moved([a, b, c, d, e, f]: [u8; 6]) -> u8 {
    let mut mask = 0;
    if a != b {
        mask |= 1 << a | 1 << b;
    }
    if c != d {
        mask |= 1 << c | 1 << d;
    }
    if e != f {
        mask |= 1 << e | 1 << f;
    }
    mask
}

/// The orders of the last five items come in five blocks of 24 (one per item in front); within
/// a block the last four run through their 24 orders by the same 23 steps, `TAIL_STEPS[0..23]`,
/// so the folds unroll those once and take the four steps between blocks from a `match`.
const BLOCK: usize = 24;

const _: () = {
    // Every block repeats the first block's 23 steps.
    let mut b = 1;
    while b < TAIL {
        let mut k = 0;
        while k < BLOCK - 1 {
            let (x, y) = (TAIL_STEPS[b * BLOCK + k], TAIL_STEPS[k]);
            let mut i = 0;
            while i < 6 {
                assert!(x[i] == y[i]);
                i += 1;
            }
            k += 1;
        }
        b += 1;
    }
};

/// Expands `$m!(k)` for the 23 steps k of a block of [`TAIL_STEPS`], as straight-line code
/// in which each step's indices are constants.
macro_rules! each_block_step {
    ($m:ident) => {
        $m!(0);
        $m!(1);
        $m!(2);
        $m!(3);
        $m!(4);
        $m!(5);
        $m!(6);
        $m!(7);
        $m!(8);
        $m!(9);
        $m!(10);
        $m!(11);
        $m!(12);
        $m!(13);
        $m!(14);
        $m!(15);
        $m!(16);
        $m!(17);
        $m!(18);
        $m!(19);
        $m!(20);
        $m!(21);
        $m!(22);
    };
}

/// Runs one cycle of 120 orders of the last five items: each block's 23 steps by
/// `each_block_step!($m)`, and between blocks `$m!(23)`, `$m!(47)`, `$m!(71)`, `$m!(95)`.
macro_rules! tail_cycle {
    ($m:ident) => {
        let mut block = 0;
        loop {
            each_block_step!($m);
            match block {
                0 => $m!(23),
                1 => $m!(47),
                2 => $m!(71),
                3 => $m!(95),
                _ => break,
            }
            block += 1;
        }
    };
}

/// The moves of the walk that `fold` runs: the partial cycle of 120 the walk is in (by table),
/// then each following cycle with the last five items in registers, a block of 24 orders at a
/// time as straight-line code (`tail_cycle!`).
///
/// `buf` is the slice or array the items live in; `visit` sees it after every move.
///
/// `yielded` says whether the current arrangement was already yielded (then `phase` is the
/// next step of its cycle); otherwise it is the first of a cycle and not yet yielded.
#[inline(always)]
fn fold_rest<T: Copy, S: ?Sized + AsMut<[T]>, B>(
    buf: &mut S,
    positions: &mut [u32],
    (phase, yielded, done): (u8, bool, bool),
    mut acc: B,
    mut visit: impl FnMut(B, &S) -> B,
) -> B {
    if done {
        return acc;
    }
    let Some(base) = buf.as_mut().len().checked_sub(TAIL) else {
        if !yielded {
            acc = visit(acc, buf);
        }
        while advance_by_position(positions, buf.as_mut()) {
            acc = visit(acc, buf);
        }
        return acc;
    };
    if yielded {
        for &step in &TAIL_STEPS[usize::from(phase)..] {
            tail_step(&mut buf.as_mut()[base..], step);
            acc = visit(acc, buf);
        }
        positions[base..].reverse();
        if !advance_by_position(positions, buf.as_mut()) {
            return acc;
        }
    }
    loop {
        // The tail lives in registers (constant indices only) and is stored, never loaded,
        // after each move: no step waits for the previous step's stores, and only the items
        // a move changes are stored (2.6 of the 5 on average).
        let mut tail: [T; TAIL] = match buf.as_mut()[base..].try_into() {
            Ok(tail) => tail,
            Err(_) => unreachable!("base is len - TAIL"),
        };
        acc = visit(acc, buf);
        macro_rules! step {
            ($k:literal) => {{
                const STEP: [u8; 6] = TAIL_STEPS[$k];
                const MOVED: u8 = moved(STEP);
                tail_step(&mut tail, STEP);
                let dst: &mut [T; TAIL] = match (&mut buf.as_mut()[base..]).try_into() {
                    Ok(dst) => dst,
                    Err(_) => unreachable!("base is len - TAIL"),
                };
                for (x, (d, t)) in dst.iter_mut().zip(&tail).enumerate() {
                    if MOVED & (1 << x) != 0 {
                        *d = *t;
                    }
                }
                acc = visit(acc, buf);
            }};
        }
        tail_cycle!(step);
        positions[base..].reverse();
        if !advance_by_position(positions, buf.as_mut()) {
            return acc;
        }
    }
}

/// [`fold_rest`] for arrays handed over by value: the whole array lives in registers through
/// each cycle, and each permutation goes to `visit` as a copy.
#[inline(always)]
fn fold_rest_array<T: Copy, const N: usize, B>(
    items: &mut [T; N],
    positions: &mut [u32; N],
    (phase, yielded, done): (u8, bool, bool),
    mut acc: B,
    mut visit: impl FnMut(B, [T; N]) -> B,
) -> B {
    if done {
        return acc;
    }
    let Some(base) = N.checked_sub(TAIL) else {
        if !yielded {
            acc = visit(acc, *items);
        }
        while advance_by_position(positions, items) {
            acc = visit(acc, *items);
        }
        return acc;
    };
    if yielded {
        for &step in &TAIL_STEPS[usize::from(phase)..] {
            tail_step(&mut items[base..], step);
            acc = visit(acc, *items);
        }
        positions[base..].reverse();
        if !advance_by_position(positions, items) {
            return acc;
        }
    }
    loop {
        let mut cur = *items;
        acc = visit(acc, cur);
        macro_rules! step {
            ($k:literal) => {{
                const STEP: [u8; 6] = TAIL_STEPS[$k];
                tail_step(&mut cur[base..], STEP);
                acc = visit(acc, cur);
            }};
        }
        tail_cycle!(step);
        *items = cur;
        positions[base..].reverse();
        if !advance_by_position(positions, items) {
            return acc;
        }
    }
}

impl<T: Clone> Iterator for Permutations<T> {
    type Item = Vec<T>;

    fn next(&mut self) -> Option<Vec<T>> {
        self.next_slice().map(<[T]>::to_vec)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        size_hint(self.remaining())
    }
}

impl<T: Clone> std::iter::FusedIterator for Permutations<T> {}

/// All permutations of an array in the notes' order (lexicographic by position), each
/// yielded by value as a `[T; N]`: a real [`Iterator`] that allocates nothing per item.
///
/// This is the fast way through the iterator API. Consuming it with `fold`, `for_each`,
/// `count`, `sum`, `max_by_key` and the other methods that drive an iterator internally (also
/// through `map`, `filter` and most adapters) runs its `fold`, which keeps the permutation in
/// registers and steps through the orders of the last four items in straight-line code. A
/// `for` loop or a `next` call works too, with some bookkeeping per item (3.3 times the time
/// in the benchmark). [`fold_ref`](ArrayPermutations::fold_ref) lends each permutation in
/// place instead of copying it, faster still when the consumer reads it through a reference.
///
/// ```
/// let words: Vec<String> = notes_algo::array_permutations(['a', 'b', 'c'])
///     .map(|p| p.iter().collect())
///     .collect();
/// assert_eq!(words, ["abc", "acb", "bac", "bca", "cab", "cba"]);
///
/// // The characters of a string, no allocation per permutation.
/// let chars: [char; 4] = "1234".chars().collect::<Vec<_>>().try_into().unwrap();
/// let starting_with_3 = notes_algo::array_permutations(chars).filter(|p| p[0] == '3').count();
/// assert_eq!(starting_with_3, 6);
/// ```
pub fn array_permutations<T: Copy, const N: usize>(items: [T; N]) -> ArrayPermutations<T, N> {
    ArrayPermutations {
        items,
        positions: std::array::from_fn(|i| i as u32),
        phase: 0,
        cursor: Cursor::new(count_permutations(N).ok()),
    }
}

/// The iterator of [`array_permutations`]: yields `[T; N]` by value.
#[derive(Debug, Clone)]
pub struct ArrayPermutations<T, const N: usize> {
    items: [T; N],
    /// The original position of each item of `items`; permuted in step with it.
    positions: [u32; N],
    /// Where the last five items are in their cycle of 120 orders (N ≥ 5).
    phase: u8,
    cursor: Cursor,
}

impl<T: Copy, const N: usize> ArrayPermutations<T, N> {
    /// How many permutations are left, when that fits in a `u128`.
    pub fn remaining(&self) -> Option<u128> {
        self.cursor.remaining()
    }

    /// Folds every remaining permutation into an accumulator, each lent in place as a
    /// `&[T; N]`: the fastest way through them when `f` reads the permutation where it lies
    /// (hashing it, scoring it, testing a property), since between two permutations only the
    /// items that moved are written (2.6 on average), where `fold` hands over a fresh copy of
    /// all N.
    ///
    /// ```
    /// // Permutations of 1..=6 that are their own inverse (involutions): 76.
    /// let involutions = notes_algo::array_permutations([0, 1, 2, 3, 4, 5])
    ///     .fold_ref(0, |n, p| n + usize::from(p.iter().enumerate().all(|(i, &x)| p[x] == i)));
    /// assert_eq!(involutions, 76);
    /// ```
    pub fn fold_ref<B>(mut self, init: B, f: impl FnMut(B, &[T; N]) -> B) -> B {
        fold_rest(
            &mut self.items,
            &mut self.positions,
            (self.phase, self.cursor.started, self.cursor.done),
            init,
            f,
        )
    }
}

impl<T: Copy, const N: usize> Iterator for ArrayPermutations<T, N> {
    type Item = [T; N];

    fn next(&mut self) -> Option<[T; N]> {
        if !self
            .cursor
            .step(|| advance(&mut self.items, &mut self.positions, &mut self.phase))
        {
            return None;
        }
        Some(self.items)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        size_hint(self.remaining())
    }

    fn fold<B, F: FnMut(B, [T; N]) -> B>(mut self, init: B, f: F) -> B {
        fold_rest_array(
            &mut self.items,
            &mut self.positions,
            (self.phase, self.cursor.started, self.cursor.done),
            init,
            f,
        )
    }
}

impl<T: Copy, const N: usize> std::iter::FusedIterator for ArrayPermutations<T, N> {}

/// Each distinct arrangement of `items` once, in lexicographic order of the items (the
/// sorted arrangement first): "aab" gives "aab", "aba", "baa".
///
/// ```
/// let p: Vec<Vec<u8>> = notes_algo::distinct_permutations(b"aba").collect();
/// assert_eq!(p, [b"aab".to_vec(), b"aba".to_vec(), b"baa".to_vec()]);
/// ```
#[cfg_attr(feature = "tracing", tracing::instrument(level = "debug", skip_all))]
pub fn distinct_permutations<T: Ord + Clone>(items: &[T]) -> DistinctPermutations<T> {
    let mut items = items.to_vec();
    items.sort();
    DistinctPermutations {
        cursor: Cursor::new(count_distinct_permutations(&items).ok()),
        items,
    }
}

/// The lazy iterator of [`distinct_permutations`].
#[derive(Debug, Clone)]
pub struct DistinctPermutations<T> {
    items: Vec<T>,
    cursor: Cursor,
}

impl<T: Ord> DistinctPermutations<T> {
    /// The next arrangement, lent from the iterator's buffer (no allocation).
    pub fn next_slice(&mut self) -> Option<&[T]> {
        if !self.cursor.step(|| next_permutation(&mut self.items)) {
            return None;
        }
        Some(&self.items)
    }

    /// How many arrangements are left, when that fits in a `u128`.
    pub fn remaining(&self) -> Option<u128> {
        self.cursor.remaining()
    }
}

impl<T: Ord + Clone> Iterator for DistinctPermutations<T> {
    type Item = Vec<T>;

    fn next(&mut self) -> Option<Vec<T>> {
        self.next_slice().map(<[T]>::to_vec)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        size_hint(self.remaining())
    }
}

impl<T: Ord + Clone> std::iter::FusedIterator for DistinctPermutations<T> {}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// The notes' algorithm, literally: grow (prefix, remaining choices) pairs.
    fn naive<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
        let mut pairs: Vec<(Vec<T>, Vec<T>)> = vec![(Vec::new(), items.to_vec())];
        for _ in 0..items.len() {
            pairs = pairs
                .into_iter()
                .flat_map(|(prefix, choices)| {
                    (0..choices.len())
                        .map(|i| {
                            let mut p = prefix.clone();
                            p.push(choices[i].clone());
                            let mut rest = choices.clone();
                            rest.remove(i);
                            (p, rest)
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
        }
        pairs.into_iter().map(|(p, _)| p).collect()
    }

    #[test]
    fn the_notes_example() {
        let got: Vec<String> = string_permutations("1234").collect();
        let want = "1234 1243 1324 1342 1423 1432 2134 2143 2314 2341 2413 2431 \
                    3124 3142 3214 3241 3412 3421 4123 4132 4213 4231 4312 4321";
        assert_eq!(got.join(" "), want);
    }

    #[test]
    fn matches_the_naive_recursion_up_to_8_items() {
        for n in 0..=8usize {
            // Unsorted, with repeats: order is by position, not by value.
            let items: Vec<u8> = (0..n).map(|i| ((i * 5 + 3) % 4) as u8).collect();
            let got: Vec<Vec<u8>> = permutations(&items).collect();
            assert_eq!(got, naive(&items), "n = {n}");
            assert_eq!(got.len() as u128, count_permutations(n).unwrap());
        }
    }

    /// Consumes `skip` items with `next`, then the rest with `fold`.
    fn next_then_fold<I: Iterator>(mut it: I, skip: usize) -> Vec<I::Item> {
        let mut got: Vec<I::Item> = it.by_ref().take(skip).collect();
        it.fold((), |(), p| got.push(p));
        got
    }

    #[test]
    fn for_each_slice_matches_the_naive_recursion_from_any_state() {
        for n in 0..=8usize {
            let items: Vec<u8> = (0..n).map(|i| ((i * 5 + 3) % 4) as u8).collect();
            let want = naive(&items);
            for skip in [
                0,
                1,
                2,
                23,
                24,
                25,
                47,
                48,
                95,
                96,
                119,
                120,
                121,
                700,
                want.len() - 1,
                want.len(),
            ] {
                let got = next_then_fold(permutations(&items), skip);
                assert_eq!(got, want, "n = {n}, {skip} by next");
            }
        }
    }

    macro_rules! check_arrays {
        ($($n:literal)*) => {$({
            let items: [u8; $n] = std::array::from_fn(|i| ((i * 5 + 3) % 4) as u8);
            let want = naive(&items);
            let by_next: Vec<Vec<u8>> = array_permutations(items).map(Vec::from).collect();
            assert_eq!(by_next, want, "n = {}", $n);
            for skip in [
                0, 1, 2, 23, 24, 25, 47, 48, 95, 96, 119, 120, 121, 5000, want.len() - 1, want.len(),
            ] {
                let got: Vec<Vec<u8>> = next_then_fold(array_permutations(items), skip)
                    .into_iter()
                    .map(Vec::from)
                    .collect();
                assert_eq!(got, want, "n = {}, {skip} by next", $n);
                let mut it = array_permutations(items);
                let seen: Vec<Vec<u8>> = it.by_ref().take(skip).map(Vec::from).collect();
                let seen = it.fold_ref(seen, |mut seen, p| {
                    seen.push(p.to_vec());
                    seen
                });
                assert_eq!(seen, want, "n = {}, {skip} by next, then fold_ref", $n);
            }
            let mut it = array_permutations(items);
            assert_eq!(it.size_hint().0, want.len());
            it.next();
            assert_eq!(it.remaining(), Some(want.len() as u128 - 1));
        })*};
    }

    #[test]
    fn array_permutations_match_the_naive_recursion() {
        check_arrays!(0 1 2 3 4 5 6 7 8);
    }

    #[test]
    fn distinct_matches_a_hash_set() {
        for word in [
            "", "a", "aa", "aab", "abab", "mississ", "aabbccd", "zzzzzzzz", "hé hé",
        ] {
            let chars: Vec<char> = word.chars().collect();
            let got: Vec<Vec<char>> = distinct_permutations(&chars).collect();
            let set: HashSet<Vec<char>> = naive(&chars).into_iter().collect();
            assert_eq!(got.len(), set.len(), "{word}");
            assert_eq!(got.iter().cloned().collect::<HashSet<_>>(), set, "{word}");
            assert!(got.windows(2).all(|w| w[0] < w[1]), "{word}: not ascending");
            assert_eq!(
                count_distinct_permutations(&chars).unwrap(),
                set.len() as u128
            );
        }
    }

    #[test]
    fn next_permutation_edges() {
        let mut empty: [u8; 0] = [];
        assert!(!next_permutation(&mut empty));
        let mut one = [1];
        assert!(!next_permutation(&mut one));
        let mut last = [3, 2, 1];
        assert!(!next_permutation(&mut last));
        assert_eq!(last, [1, 2, 3], "wraps to the first permutation");
    }

    #[test]
    fn counts_at_the_u128_edge() {
        assert_eq!(count_permutations(0).unwrap(), 1);
        assert!(matches!(
            count_permutations(35),
            Err(Error::CountOverflow { len: 35 })
        ));
        // 40 items in 2 kinds: C(40, 20) fits easily; 40 distinct items do not.
        let two_kinds: Vec<u8> = (0..40).map(|i| (i % 2) as u8).collect();
        assert_eq!(
            count_distinct_permutations(&two_kinds).unwrap(),
            137_846_528_820
        );
        let distinct: Vec<u8> = (0..40).collect();
        assert!(count_distinct_permutations(&distinct).is_err());
        // 34 distinct items fit (34! < 2^128).
        let distinct: Vec<u8> = (0..34).collect();
        assert_eq!(
            count_distinct_permutations(&distinct).unwrap(),
            count_permutations(34).unwrap()
        );
    }

    #[test]
    fn size_hint_and_remaining_count_down() {
        let mut p = permutations(&[1, 2, 3]);
        assert_eq!(p.size_hint(), (6, Some(6)));
        p.next();
        assert_eq!(p.remaining(), Some(5));
        assert_eq!(p.by_ref().count(), 5);
        assert_eq!(p.next(), None);
        assert_eq!(
            permutations::<u8>(&[]).count(),
            1,
            "one empty permutation, like Python"
        );
    }

    proptest::proptest! {
        #[test]
        fn distinct_count_equals_enumeration(items in proptest::collection::vec(0u8..4, 0..9)) {
            let n = distinct_permutations(&items).count() as u128;
            proptest::prop_assert_eq!(Some(n), count_distinct_permutations(&items).ok());
        }
    }
}
