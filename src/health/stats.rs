//! The drift statistics, computed from a reference's shares and a window's counts over the same
//! bins: the Population Stability Index and the Jensen–Shannon distance. Pure arithmetic,
//! checked against Evidently's `psi` and scipy's `jensenshannon` (tests/api/health_stats.rs).
//!
//! Both follow Evidently on categorical data, where each bin is a category: bins empty in the
//! reference and the window alike are left out (Evidently only knows the categories it sees).
//! PSI replaces an empty bin's share, on either side, by a tenth of a thousandth (or, when the
//! smallest non-zero share of that side is at most that, a millionth of it), as Evidently's
//! `get_binned_data(feel_zeroes=True)` does: PSI divides by shares. Jensen–Shannon needs no
//! such help. Logarithms are natural, as in Evidently and scipy's default: PSI's usual
//! thresholds (0.1 moderate, 0.25 significant) are stated for it, and a Jensen–Shannon
//! distance lies between 0 and √ln 2 ≈ 0.833.

/// The share an empty bin is given on one side, from that side's smallest non-zero share.
fn filled(shares: &[f64]) -> f64 {
    let smallest = shares
        .iter()
        .copied()
        .filter(|&s| s > 0.0)
        .fold(f64::INFINITY, f64::min);
    if smallest <= 0.0001 {
        smallest / 1e6
    } else {
        0.0001
    }
}

/// The bins present on either side: the reference's shares and the window's, over them.
fn present(reference: &[f64], counts: &[u64]) -> Option<(Vec<f64>, Vec<f64>)> {
    let total: u64 = counts.iter().sum();
    if total == 0 || reference.len() != counts.len() {
        return None;
    }
    let (expected, actual): (Vec<f64>, Vec<f64>) = reference
        .iter()
        .zip(counts)
        .filter(|&(&r, &c)| r > 0.0 || c > 0)
        .map(|(&r, &c)| (r, c as f64 / total as f64))
        .unzip();
    Some((expected, actual))
}

/// The Population Stability Index of a window's `counts` against the reference's `shares`
/// (one per bin, the same bins): Σ (r − c) · ln(r / c). `None` for an empty window.
pub fn psi(shares: &[f64], counts: &[u64]) -> Option<f64> {
    let (mut expected, mut actual) = present(shares, counts)?;
    for side in [&mut expected, &mut actual] {
        let fill = filled(side);
        for share in side.iter_mut().filter(|s| **s == 0.0) {
            *share = fill;
        }
    }
    Some(
        expected
            .iter()
            .zip(&actual)
            .map(|(&r, &c)| (r - c) * (r / c).ln())
            .sum(),
    )
}

/// The Jensen–Shannon distance (the square root of the divergence, natural log) of a window's
/// `counts` against the reference's `shares`, as scipy's `jensenshannon` computes it. `None`
/// for an empty window.
pub fn jensen_shannon(shares: &[f64], counts: &[u64]) -> Option<f64> {
    let (expected, actual) = present(shares, counts)?;
    let (sum_p, sum_q): (f64, f64) = (expected.iter().sum(), actual.iter().sum());
    let relative = |x: f64, m: f64| if x > 0.0 { x * (x / m).ln() } else { 0.0 };
    let (mut left, mut right) = (0.0, 0.0);
    for (&p, &q) in expected.iter().zip(&actual) {
        let (p, q) = (p / sum_p, q / sum_q);
        let m = (p + q) / 2.0;
        left += relative(p, m);
        right += relative(q, m);
    }
    Some(((left + right) / 2.0).max(0.0).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-12, "{actual} != {expected}");
    }

    #[test]
    fn the_same_distribution_has_no_drift() {
        let shares = [0.25, 0.25, 0.5, 0.0];
        close(psi(&shares, &[10, 10, 20, 0]).unwrap(), 0.0);
        close(jensen_shannon(&shares, &[10, 10, 20, 0]).unwrap(), 0.0);
        assert_eq!(psi(&shares, &[0, 0, 0, 0]), None);
    }

    #[test]
    fn psi_by_hand() {
        // 50/50 against 90/10: 0.4 ln(5/9) ... computed term by term.
        let expected = (0.5 - 0.9) * (0.5f64 / 0.9).ln() + (0.5 - 0.1) * (0.5f64 / 0.1).ln();
        close(psi(&[0.5, 0.5], &[9, 1]).unwrap(), expected);
        // An empty bin in the window takes 0.0001.
        let expected = (0.5 - 1.0) * (0.5f64 / 1.0).ln() + (0.5 - 0.0001) * (0.5f64 / 0.0001).ln();
        close(psi(&[0.5, 0.5], &[4, 0]).unwrap(), expected);
        // Bins empty on both sides are left out.
        close(
            psi(&[0.5, 0.0, 0.5], &[9, 0, 1]).unwrap(),
            psi(&[0.5, 0.5], &[9, 1]).unwrap(),
        );
    }

    #[test]
    fn jensen_shannon_by_hand() {
        // Disjoint supports: the divergence is ln 2, its root the largest distance.
        close(
            jensen_shannon(&[1.0, 0.0], &[0, 7]).unwrap(),
            2f64.ln().sqrt(),
        );
        let (p, q) = ([0.5, 0.5], [0.75, 0.25]);
        let m = [0.625, 0.375];
        let kl = |a: &[f64; 2]| a[0] * (a[0] / m[0]).ln() + a[1] * (a[1] / m[1]).ln();
        close(
            jensen_shannon(&p, &[3, 1]).unwrap(),
            ((kl(&p) + kl(&q)) / 2.0).sqrt(),
        );
    }
}
