//! The arithmetic every linear model shares: a dot product arranged for vector registers, an
//! `exp` that vectorises, both within an ulp or two of what numpy computes, and [`wide`], which
//! runs a loop compiled for the widest vector instructions the processor has (`model::simd`
//! says more).

/// `f()`, compiled for the widest instructions this processor has (AVX-512 or AVX2),
/// chosen at run time as faer's and matrixmultiply's kernels choose theirs. Only what is
/// inlined into `f` (`#[inline(always)]`) is compiled wide; no multiply and add is fused, so
/// the results are the same to the bit.
#[inline(always)]
pub fn wide<R>(f: impl FnOnce() -> R) -> R {
    struct Op<F>(F);
    impl<R, F: FnOnce() -> R> pulp::WithSimd for Op<F> {
        type Output = R;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _: S) -> R {
            (self.0)()
        }
    }
    pulp::Arch::new().dispatch(Op(f))
}

/// Independent sums of a dot product: the additions do not wait on each other, and the
/// compiler keeps them in vector registers.
const LANES: usize = 8;

/// The dot product in [`LANES`] independent lanes, so the additions do not wait on each other
/// and the compiler can keep them in vector registers.
#[inline(always)]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    dots::<1>(a, [b])[0]
}

/// [`dot`] of `a` with each of `N` slices at once (the same values to the bit): `N` times
/// [`LANES`] chains of additions side by side, `a` read once for all of them. Each slice's
/// lanes are two halves of four, added half to half at the end (lane `l` to lane `l + 4`),
/// each half one vector register of AVX2.
#[inline(always)]
pub fn dots<const N: usize>(a: &[f64], b: [&[f64]; N]) -> [f64; N] {
    const HALF: usize = LANES / 2;
    let split = a.len() - a.len() % LANES;
    let (a_body, a_tail) = a.split_at(split);
    let mut low = [[0.0f64; HALF]; N];
    let mut high = [[0.0f64; HALF]; N];
    for (c, x) in a_body.chunks_exact(LANES).enumerate() {
        for ((low, high), b) in low.iter_mut().zip(high.iter_mut()).zip(&b) {
            let y = &b[c * LANES..(c + 1) * LANES];
            for lane in 0..HALF {
                low[lane] += x[lane] * y[lane];
                high[lane] += x[HALF + lane] * y[HALF + lane];
            }
        }
    }
    // Out of the optimiser's sight: otherwise it pairs lanes for the sums below (0 with 4, 1
    // with 5, ...) and runs the loop above two doubles at a time with shuffles.
    let (low, high) = std::hint::black_box((low, high));
    let mut out = [0.0; N];
    for (((o, low), high), b) in out.iter_mut().zip(&low).zip(&high).zip(&b) {
        let tail: f64 = a_tail.iter().zip(&b[split..]).map(|(x, y)| x * y).sum();
        let mut quads = [0.0; HALF];
        for ((q, l), h) in quads.iter_mut().zip(low).zip(high) {
            *q = l + h;
        }
        *o = (quads[0] + quads[1]) + (quads[2] + quads[3]) + tail;
    }
    out
}

/// `exp` to within an ulp or two of libm's, written without calls or branches so that loops
/// over whole batches vectorise (libm's `exp` is a call per element, and dominated batch
/// `predict_proba`). Range reduction `x = n·ln2 + r`, |r| ≤ ln2/2, a degree-13 Taylor
/// polynomial (truncation error below 1e-17), and `2^n` applied in two halves so that results
/// down to the smallest subnormal are right.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    // ln 2 split (as fdlibm does) so that `n · LN2_HI` is exact.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    // Adding 1.5·2^52 rounds to the nearest integer and leaves it in the low mantissa bits.
    const SHIFTER: f64 = 6_755_399_441_055_744.0;
    const MAX: f64 = 709.782_712_893_384;
    const MIN: f64 = -745.133_219_101_941_1;
    let clamped = x.clamp(MIN, MAX);
    let shifted = clamped * LOG2E + SHIFTER;
    let n = shifted - SHIFTER;
    let k = (shifted.to_bits() as i64).wrapping_sub(SHIFTER.to_bits() as i64);
    let r = (clamped - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0;
    for divisor in [
        479_001_600.0,
        39_916_800.0,
        3_628_800.0,
        362_880.0,
        40_320.0,
        5_040.0,
        720.0,
        120.0,
        24.0,
        6.0,
        2.0,
        1.0,
        1.0,
    ] {
        p = p * r + 1.0 / divisor;
    }
    // ⌊k / 2⌋, as `k >> 1` gives it, rounded by the shifter (k/2 − 1/4 is never a tie):
    // AVX2 has no arithmetic shift of 64-bit lanes, and a loop with one ran scalar there.
    let half =
        (((n * 0.5 - 0.25) + SHIFTER).to_bits() as i64).wrapping_sub(SHIFTER.to_bits() as i64);
    let low = f64::from_bits(((half + 1023) as u64) << 52);
    let high = f64::from_bits(((k - half + 1023) as u64) << 52);
    let y = p * low * high;
    if x > MAX {
        f64::INFINITY
    } else if x < MIN {
        0.0
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_agrees_with_libm_to_an_ulp_or_two() {
        let mut x = -745.5;
        while x < 710.0 {
            let (ours, libm) = (exp(x), x.exp());
            let ulps = (ours.to_bits() as i64 - libm.to_bits() as i64).abs();
            assert!(ulps <= 2, "exp({x}) = {ours}, libm {libm} ({ulps} ulps)");
            x += 0.0137;
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-1e9), 0.0);
        assert_eq!(exp(1e9), f64::INFINITY);
    }

    #[test]
    fn dot_handles_every_tail_length() {
        for n in 0..11 {
            let a: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let expected: f64 = a.iter().map(|x| x * x).sum();
            assert_eq!(dot(&a, &a), expected);
        }
    }
}
