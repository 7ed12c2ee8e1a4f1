//! The n-th prime as primecount finds it: an estimate from the inverse of Riemann's R
//! function, one exact count π(x) there, and a short sieve of the gap between x and p_n,
//! forwards or backwards.
//!
//! R⁻¹(n) is within about √p_n / ln p_n primes of p_n (Riemann's explicit formula), so the gap
//! holds a few thousand primes at p(1e12) and a few million numbers at most near 2^64: its
//! sieve costs a fraction of the count.

/// ζ(s) for s = 2..=9; from 10 on, the first 30 terms of Σ n^−s are exact to f64 precision.
const ZETA: [f64; 8] = [
    1.644_934_066_848_226_4,
    1.202_056_903_159_594_3,
    1.082_323_233_711_138_2,
    1.036_927_755_143_37,
    1.017_343_061_984_449,
    1.008_349_277_381_922_8,
    1.004_077_356_197_944_3,
    1.002_008_392_826_082_2,
];

fn zeta(s: u32) -> f64 {
    if (2..=9).contains(&s) {
        return ZETA[s as usize - 2];
    }
    (1..=30u32).map(|n| f64::from(n).powi(-(s as i32))).sum()
}

/// Riemann's R(x) = 1 + Σ_{k≥1} (ln x)^k / (k · k! · ζ(k + 1)) (Gram's series: every term is
/// positive, so f64 keeps its relative precision up to 2^64).
pub(super) fn riemann_r(x: f64) -> f64 {
    if x < 1.0 {
        return 0.0;
    }
    let t = x.ln();
    let (mut sum, mut power) = (1.0f64, 1.0f64);
    for k in 1..=400u32 {
        let kf = f64::from(k);
        // power = t^k / k!.
        power *= t / kf;
        let term = power / (kf * zeta(k + 1));
        sum += term;
        if kf > t && term < sum * 1e-17 {
            break;
        }
    }
    sum
}

/// x with R(x) ≈ n, by Newton's method (R'(x) ≈ 1 / ln x), for n ≥ 2.
pub(super) fn riemann_r_inverse(n: f64) -> f64 {
    let mut x = (n * n.ln().max(1.0)).max(2.0);
    for _ in 0..100 {
        let step = (riemann_r(x) - n) * x.ln();
        x = (x - step).max(2.0);
        if step.abs() < 0.5 {
            break;
        }
    }
    x
}

/// The prime that is the `k`-th counting from the start, given π(`x`) = `below`:
/// forwards from x + 1 when `below` < `k`, else backwards from x. `count_in(lo, hi)` counts
/// the primes in `[lo, hi)`; `None` if the walk leaves `u64` (no such prime).
pub(super) fn walk_to_nth(
    k: u64,
    x: u64,
    below: u64,
    count_in: impl Fn(u64, u64) -> u64,
) -> Option<u64> {
    // About ln x numbers a prime: one block usually reaches p_k, with a margin for the
    // irregular gaps; at least 2^18 numbers so tiny gaps do not take many blocks.
    let per_prime = (x.max(3) as f64).ln() * 1.25;
    let width = |primes: u64| ((primes as f64 * per_prime) as u64).clamp(1 << 18, 1 << 34);
    if below < k {
        // The need-th prime above x.
        let mut need = k - below;
        let mut lo = x.checked_add(1)?;
        loop {
            let hi = lo.saturating_add(width(need));
            let found = count_in(lo, hi);
            if found >= need {
                return super::driver::Primes::new(lo, hi).nth((need - 1) as usize);
            }
            if hi == u64::MAX {
                return None;
            }
            need -= found;
            lo = hi;
        }
    }
    // The primes in (p_k, x] number skip; p_k is the (skip + 1)-th counting down from x.
    let mut skip = below - k;
    let mut hi = x.checked_add(1)?;
    loop {
        let lo = hi.saturating_sub(width(skip + 1));
        let found = count_in(lo, hi);
        if found > skip {
            return super::driver::Primes::new(lo, hi).nth((found - 1 - skip) as usize);
        }
        if lo == 0 {
            return None;
        }
        skip -= found;
        hi = lo;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn riemann_r_matches_known_values() {
        // R(10^k) = π(10^k) + (R − π)(10^k), from the tables of π(x) and R(x) − π(x).
        for (x, want) in [
            (1e3, 168.359_446_281),
            (1e6, 78_527.399_429),
            (1e9, 50_847_455.43),
            (1e12, 37_607_910_542.2),
            (1e18, 24_739_954_284_239_494.0),
        ] {
            let got = riemann_r(x);
            assert!(
                (got - want).abs() / want < 1e-9,
                "R({x}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn the_inverse_lands_near_the_nth_prime() {
        for (n, p) in [
            (1_000_000u64, 15_485_863u64),
            (1_000_000_000_000, 29_996_224_275_833),
            (100_000_000_000_000_000, 4_185_296_581_467_695_669),
        ] {
            let x = riemann_r_inverse(n as f64);
            let err = (x - p as f64).abs();
            // Within √p numbers (in fact far closer).
            assert!(err < (p as f64).sqrt(), "R⁻¹({n}) = {x}, p = {p}");
            assert!((riemann_r(x) - n as f64).abs() < 1.0 + n as f64 * 1e-15);
        }
    }

    #[test]
    fn the_walk_goes_both_ways() {
        let list = super::super::primes_below(3_000_000);
        let count_in = |lo: u64, hi: u64| super::super::driver::Primes::new(lo, hi).count() as u64;
        for &(k, x) in &[
            (1u64, 0u64),
            (1, 2),
            (2, 2),
            (5, 100),
            (100_000, 1_000_000),
            (200_000, 2_000_000),
            (3, 1_000_000),
        ] {
            let below = list.iter().take_while(|&&p| p <= x).count() as u64;
            assert_eq!(
                walk_to_nth(k, x, below, count_in),
                Some(list[k as usize - 1]),
                "k={k} x={x}"
            );
        }
        assert_eq!(walk_to_nth(1, u64::MAX, 0, count_in), None);
    }
}
