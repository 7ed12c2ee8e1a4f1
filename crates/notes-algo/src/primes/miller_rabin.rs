//! Deterministic Miller–Rabin for every `u64`, in Montgomery form (no 128-bit division in
//! the loop, which is what makes it several times faster than `u128 %`).

/// Bases that decide primality for every n < 2^64 (Jim Sinclair, 2011).
const BASES: [u64; 7] = [2, 325, 9375, 28178, 450775, 9780504, 1795265022];

/// Small primes tried by division first; they also make every base safe to use.
const SMALL: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];

/// Whether `n` is prime.
pub(crate) fn is_prime_u64(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    for p in SMALL {
        if n.is_multiple_of(p) {
            return n == p;
        }
    }
    if n < 41 * 41 {
        return true;
    }
    let m = Montgomery::new(n);
    let d_shift = (n - 1).trailing_zeros();
    let d = (n - 1) >> d_shift;
    let one = m.one;
    let minus_one = n - one;
    'bases: for a in BASES {
        let a = a % n;
        if a == 0 {
            continue;
        }
        let mut x = m.pow(m.to_mont(a), d);
        if x == one || x == minus_one {
            continue;
        }
        for _ in 1..d_shift {
            x = m.mul(x, x);
            if x == minus_one {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

/// Arithmetic modulo an odd `n` with R = 2^64.
struct Montgomery {
    n: u64,
    /// n⁻¹ mod 2^64.
    inv: u64,
    /// R mod n, the Montgomery form of 1.
    one: u64,
}

impl Montgomery {
    fn new(n: u64) -> Self {
        // Newton's iteration doubles the correct low bits: 3 (n·n ≡ 1 mod 8) → 96.
        let mut inv = n;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(n.wrapping_mul(inv)));
        }
        let one = ((u128::from(u64::MAX) + 1) % u128::from(n)) as u64;
        Self { n, inv, one }
    }

    fn to_mont(&self, a: u64) -> u64 {
        ((u128::from(a) << 64) % u128::from(self.n)) as u64
    }

    /// a·b·R⁻¹ mod n, for a, b < n.
    #[inline]
    fn mul(&self, a: u64, b: u64) -> u64 {
        let t = u128::from(a) * u128::from(b);
        let (lo, hi) = (t as u64, (t >> 64) as u64);
        // t − m·n is divisible by R, and (t − m·n)/R lies in (−n, n).
        let m = lo.wrapping_mul(self.inv);
        let mn_hi = ((u128::from(m) * u128::from(self.n)) >> 64) as u64;
        let (r, borrow) = hi.overflowing_sub(mn_hi);
        if borrow { r.wrapping_add(self.n) } else { r }
    }

    fn pow(&self, mut base: u64, mut e: u64) -> u64 {
        let mut acc = self.one;
        while e > 0 {
            if e & 1 == 1 {
                acc = self.mul(acc, base);
            }
            base = self.mul(base, base);
            e >>= 1;
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::is_prime_u64;
    use crate::primes::tests::trial;

    #[test]
    fn agrees_with_trial_division_below_100_000() {
        for n in 0..100_000 {
            assert_eq!(is_prime_u64(n), trial(n), "{n}");
        }
    }

    #[test]
    fn edges_near_two_to_the_64() {
        // The largest primes below 2^64 are 2^64 - 59 and 2^64 - 83.
        assert!(is_prime_u64(u64::MAX - 58));
        assert!(is_prime_u64(u64::MAX - 82));
        for n in (u64::MAX - 82 + 1)..=u64::MAX {
            assert_eq!(is_prime_u64(n), n == u64::MAX - 58, "{n}");
        }
        assert!(!is_prime_u64(u64::MAX));
        // 2^61 - 1 is a Mersenne prime; 2^32 + 1 = 641 · 6700417 is not prime.
        assert!(is_prime_u64((1 << 61) - 1));
        assert!(!is_prime_u64((1 << 32) + 1));
    }

    #[test]
    fn strong_pseudoprimes_and_carmichael_numbers_are_rejected() {
        for n in [
            561,
            41041,
            825_265,
            2047,
            1_373_653,
            25_326_001,
            3_215_031_751,
            2_152_302_898_747,
            3_474_749_660_383,
            341_550_071_728_321,
            3_825_123_056_546_413_051,
        ] {
            assert!(!is_prime_u64(n), "{n}");
        }
    }
}
