//! The special functions the dense estimators need, as scipy's cephes computes them:
//! `digamma` (BayesianGaussianMixture's expected log weights and precisions), `erf`
//! (GaussianProcessClassifier's probabilities) and `ndtri` (QuantileTransformer's normal
//! output, `scipy.stats.norm.ppf`), each within a few ulps of scipy's; and `log1p`
//! (FunctionTransformer's `numpy.log1p`) as fdlibm computes it, written so that a loop over an
//! array vectorises.
//!
//! What must not live here: any estimator's arithmetic.

/// The Euler–Mascheroni constant.
const EULER: f64 = 0.577_215_664_901_532_9;

/// `Σ c[i] x^(n-i)`, Horner's rule, as cephes' `polevl`.
fn polevl(x: f64, c: &[f64]) -> f64 {
    c.iter().fold(0.0, |acc, &ci| acc * x + ci)
}

/// [`polevl`] with a leading coefficient of 1 left out (cephes' `p1evl`).
fn p1evl(x: f64, c: &[f64]) -> f64 {
    c.iter().fold(1.0, |acc, &ci| acc * x + ci)
}

/// The digamma function ψ(x), cephes' `psi`: reflection for x ≤ 0, the harmonic sum for a
/// positive integer up to 10, otherwise the recurrence up to 10 and the asymptotic series.
pub fn digamma(x: f64) -> f64 {
    const A: [f64; 7] = [
        8.333_333_333_333_333e-2,
        -2.109_279_609_279_609_3e-2,
        7.575_757_575_757_576e-3,
        -4.166_666_666_666_667e-3,
        3.968_253_968_253_968e-3,
        -8.333_333_333_333_333e-3,
        8.333_333_333_333_333e-2,
    ];
    let mut x = x;
    let mut reflection = 0.0;
    let negative = x <= 0.0;
    if negative {
        let q = x;
        let mut p = q.floor();
        if p == q {
            return f64::NAN;
        }
        let mut nz = q - p;
        if nz != 0.5 {
            if nz > 0.5 {
                p += 1.0;
                nz = q - p;
            }
            reflection = std::f64::consts::PI / (std::f64::consts::PI * nz).tan();
        }
        x = 1.0 - x;
    }
    let y = if x <= 10.0 && x == x.floor() {
        let n = x as u32;
        (1..n).map(|i| 1.0 / f64::from(i)).sum::<f64>() - EULER
    } else {
        let mut s = x;
        let mut w = 0.0;
        while s < 10.0 {
            w += 1.0 / s;
            s += 1.0;
        }
        let series = if s < 1.0e17 {
            let z = 1.0 / (s * s);
            z * polevl(z, &A)
        } else {
            0.0
        };
        s.ln() - 0.5 / s - series - w
    };
    if negative { y - reflection } else { y }
}

/// The inverse of the standard normal distribution function, cephes' `ndtri` (what
/// `scipy.stats.norm.ppf` computes): -inf at 0, inf at 1, NaN outside [0, 1].
pub fn ndtri(y0: f64) -> f64 {
    const S2PI: f64 = 2.5066282746310007;
    const P0: [f64; 5] = [
        -59.96335010141079,
        98.00107541859997,
        -56.67628574690703,
        13.931260938727968,
        -1.2391658386738125,
    ];
    const Q0: [f64; 8] = [
        1.9544885833814176,
        4.676279128988815,
        86.36024213908905,
        -225.46268785411937,
        200.26021238006066,
        -82.03722561683334,
        15.90562251262117,
        -1.1833162112133,
    ];
    const P1: [f64; 9] = [
        4.0554489230596245,
        31.525109459989388,
        57.16281922464213,
        44.08050738932008,
        14.684956192885803,
        2.1866330685079025,
        -0.1402560791713545,
        -0.03504246268278482,
        -0.0008574567851546854,
    ];
    const Q1: [f64; 8] = [
        15.779988325646675,
        45.39076351288792,
        41.3172038254672,
        15.04253856929075,
        2.504649462083094,
        -0.14218292285478779,
        -0.03808064076915783,
        -0.0009332594808954574,
    ];
    const P2: [f64; 9] = [
        3.2377489177694603,
        6.915228890689842,
        3.9388102529247444,
        1.3330346081580755,
        0.20148538954917908,
        0.012371663481782003,
        0.00030158155350823543,
        2.6580697468673755e-06,
        6.239745391849833e-09,
    ];
    const Q2: [f64; 8] = [
        6.02427039364742,
        3.6798356385616087,
        1.3770209948908132,
        0.21623699359449663,
        0.013420400608854318,
        0.00032801446468212774,
        2.8924786474538068e-06,
        6.790194080099813e-09,
    ];
    const EXP_M2: f64 = 0.1353352832366127;
    if y0.is_nan() || !(0.0..=1.0).contains(&y0) {
        return f64::NAN;
    }
    if y0 == 0.0 {
        return f64::NEG_INFINITY;
    }
    if y0 == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, negate) = if y0 > 1.0 - EXP_M2 {
        (1.0 - y0, false)
    } else {
        (y0, true)
    };
    if y > EXP_M2 {
        y -= 0.5;
        let y2 = y * y;
        let x = y + y * (y2 * polevl(y2, &P0) / p1evl(y2, &Q0));
        return x * S2PI;
    }
    let x = (-2.0 * y.ln()).sqrt();
    let x0 = x - x.ln() / x;
    let z = 1.0 / x;
    let x1 = if x < 8.0 {
        z * polevl(z, &P1) / p1evl(z, &Q1)
    } else {
        z * polevl(z, &P2) / p1evl(z, &Q2)
    };
    let x = x0 - x1;
    if negate { -x } else { x }
}

/// The error function, cephes' `erf` (and `erfc` beyond |x| > 1).
pub fn erf(x: f64) -> f64 {
    const T: [f64; 5] = [
        9.604_973_739_870_516,
        90.026_019_720_384_27,
        2_232.005_345_946_843,
        7_003.325_141_128_051,
        55_592.301_301_039_5,
    ];
    const U: [f64; 5] = [
        33.561_714_164_750_31,
        521.357_949_780_152_7,
        4_594.323_829_709_801,
        22_629.000_061_389_095,
        49_267.394_260_863_59,
    ];
    if x.is_nan() {
        return x;
    }
    if x.abs() > 1.0 {
        return 1.0 - erfc(x);
    }
    let z = x * x;
    x * polevl(z, &T) / p1evl(z, &U)
}

/// The complementary error function, cephes' `erfc`.
pub fn erfc(a: f64) -> f64 {
    const P: [f64; 9] = [
        2.461_969_814_735_305e-10,
        5.641_895_648_310_689e-1,
        7.463_210_564_422_699,
        48.637_197_098_568_14,
        196.520_832_956_077_1,
        526.445_194_995_477_4,
        934.528_527_171_957_6,
        1_027.551_886_895_157,
        557.535_335_369_399_3,
    ];
    const Q: [f64; 8] = [
        13.228_195_115_474_499,
        86.707_214_088_598_97,
        354.937_778_887_819_9,
        975.708_501_743_205_5,
        1_823.909_166_879_097_3,
        2_246.337_608_187_109_8,
        1_656.663_091_941_613_5,
        557.535_340_817_727_7,
    ];
    const R: [f64; 6] = [
        5.641_895_835_477_551e-1,
        1.275_366_707_599_781,
        5.019_050_422_511_805,
        6.160_210_979_930_536,
        7.409_742_699_504_489,
        2.978_866_653_721_002_4,
    ];
    const S: [f64; 6] = [
        2.260_528_632_201_172_6,
        9.396_035_249_380_015,
        12.048_953_980_809_666,
        17.081_445_074_756_59,
        9.608_968_090_632_859,
        3.369_076_451_000_815,
    ];
    const MAXLOG: f64 = 7.097_827_128_933_84e2;
    if a.is_nan() {
        return a;
    }
    let x = a.abs();
    if x < 1.0 {
        return 1.0 - erf(a);
    }
    let under = if a < 0.0 { 2.0 } else { 0.0 };
    let z = -a * a;
    if z < -MAXLOG {
        return under;
    }
    let z = z.exp();
    let (p, q) = if x < 8.0 {
        (polevl(x, &P), p1evl(x, &Q))
    } else {
        (polevl(x, &R), p1evl(x, &S))
    };
    let mut y = (z * p) / q;
    if a < 0.0 {
        y = 2.0 - y;
    }
    if y == 0.0 { under } else { y }
}

/// `ln(1 + x)`: fdlibm's `log1p` (musl's and glibc's, which `f64::ln_1p` calls) step for
/// step, its branches made selections so that a loop over an array vectorises where libm's
/// is a call per value. `1 + x` is taken to `2^k · m`, `m` within [√2/2, √2), with the
/// rounding error of `1 + x` carried as `c`, and `ln m` is fdlibm's polynomial in
/// `s = (m - 1) / (m + 1)`.
#[inline(always)]
pub fn log1p(x: f64) -> f64 {
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    const LG1: f64 = f64::from_bits(0x3fe5_5555_5555_5593);
    const LG2: f64 = f64::from_bits(0x3fd9_9999_9997_fa04);
    const LG3: f64 = f64::from_bits(0x3fd2_4924_9422_9359);
    const LG4: f64 = f64::from_bits(0x3fcc_71c5_1d8e_78af);
    const LG5: f64 = f64::from_bits(0x3fc7_4664_96cb_03de);
    const LG6: f64 = f64::from_bits(0x3fc3_9a09_d078_c69f);
    const LG7: f64 = f64::from_bits(0x3fc2_f112_df3e_5244);
    let hx = (x.to_bits() >> 32) as u32;
    // 1 + x within [√2/2, √2): no reduction, and f is x itself.
    let near = hx < 0x3fda_827a || (0x8000_0000..=0xbfd2_bec4).contains(&hx);
    let u = 1.0 + x;
    let hu = ((u.to_bits() >> 32) as u32).wrapping_add(0x3ff0_0000 - 0x3fe6_a09e);
    let k_far = (hu >> 20) as i32 - 0x3ff;
    // The rounding error of 1 + x, relative to it (none worth carrying past 2^54).
    let error = if k_far >= 2 {
        1.0 - (u - x)
    } else {
        x - (u - 1.0)
    };
    let c_far = if k_far < 54 { error / u } else { 0.0 };
    let m = f64::from_bits(
        (u64::from((hu & 0x000f_ffff) + 0x3fe6_a09e) << 32) | (u.to_bits() & 0xffff_ffff),
    );
    let (k, c, f) = if near {
        (0, 0.0, x)
    } else {
        (k_far, c_far, m - 1.0)
    };
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let dk = f64::from(k);
    let y = s * (hfsq + r) + (dk * LN2_LO + c) - hfsq + f + dk * LN2_HI;
    if x.is_nan() || hx << 1 < 0x3ca0_0000 << 1 || x == f64::INFINITY {
        // NaN, |x| below 2^-53, and +∞ are their own answers.
        x
    } else if hx >= 0xbff0_0000 {
        // x ≤ -1: -∞ at -1, NaN below.
        if x == -1.0 {
            f64::NEG_INFINITY
        } else {
            f64::NAN
        }
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log1p_is_libms_within_an_ulp() {
        for i in 1..100_000 {
            let t = f64::from(i) / 100_000.0;
            // Across (-1, 0), (0, 3), and magnitudes from 1e-30 to 1e270 of either sign.
            let magnitude = 10f64.powf(t * 300.0 - 30.0);
            for v in [t - 1.0, 3.0 * t, magnitude, -magnitude.min(0.999)] {
                let (ours, libm) = (log1p(v), v.ln_1p());
                let ulps = (ours.to_bits() as i64 - libm.to_bits() as i64).abs();
                assert!(ulps <= 1, "log1p({v}) = {ours}, libm {libm}");
            }
        }
        for v in [0.0, -0.0, 5e-324, f64::MAX, f64::INFINITY] {
            assert_eq!(log1p(v).to_bits(), v.ln_1p().to_bits(), "log1p({v})");
        }
        assert_eq!(log1p(-1.0), f64::NEG_INFINITY);
        assert!(log1p(-1.5).is_nan() && log1p(f64::NAN).is_nan());
        assert!(log1p(f64::NEG_INFINITY).is_nan());
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-14 * b.abs().max(1.0)
    }

    #[test]
    fn digamma_at_known_points() {
        // scipy.special.digamma(1), (0.5), (2.5), (13.7), (-0.5), (1e-3)
        for (x, want) in [
            (1.0, -0.577_215_664_901_532_9),
            (0.5, -1.963_510_026_021_423_5),
            (2.5, 0.703_156_640_645_243_2),
            (13.7, 2.580_455_723_899_653),
            (-0.5, 0.036_489_973_978_576_52),
            (1e-3, -1_000.575_571_931_810_3),
        ] {
            assert!(close(digamma(x), want), "digamma({x}) = {}", digamma(x));
        }
        assert!(digamma(-2.0).is_nan());
    }

    #[test]
    fn ndtri_at_known_points() {
        // scipy.special.ndtri at each branch: the centre, exp(-32) < y < exp(-2), below it.
        for (y, want) in [
            (1e-300, -37.0470962993612),
            (1e-20, -9.262340089798409),
            (1e-10, -6.361340902404056),
            (0.001, -3.090232306167813),
            (0.135, -1.1030625561995975),
            (0.2, -0.8416212335729142),
            (0.5, 0.0),
            (0.7, 0.5244005127080407),
            (0.99, 2.3263478740408408),
            (0.9999999, 5.199337582290661),
        ] {
            assert!(close(ndtri(y), want), "ndtri({y}) = {}", ndtri(y));
        }
        assert_eq!(ndtri(0.0), f64::NEG_INFINITY);
        assert_eq!(ndtri(1.0), f64::INFINITY);
        assert!(ndtri(f64::NAN).is_nan());
    }

    #[test]
    fn erf_at_known_points() {
        // scipy.special.erf(0.3), (1.7), (-2.2), (6.0), and erfc(3.0)
        for (x, want) in [
            (0.3, 0.328_626_759_459_127_4),
            (1.7, 0.983_790_458_590_774_6),
            (-2.2, -0.998_137_153_702_018),
            (6.0, 1.0),
            (0.0, 0.0),
        ] {
            assert!(close(erf(x), want), "erf({x}) = {}", erf(x));
        }
        assert!(close(erfc(3.0), 2.209_049_699_858_544e-5));
    }
}
