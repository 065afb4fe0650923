//! `model::pairwise` against scikit-learn 1.9's own answers for small matrices, recorded here
//! (`pairwise_distances`, `DistanceMetric.pairwise`, `nan_euclidean_distances`,
//! `pairwise_kernels`): every metric and kernel by name, within 1e-12 relative.

use ndarray::{Array2, array};
use skserve::model::pairwise::{
    Kernel, Metric, MetricParams, PairwiseError, nan_euclidean_distances, pairwise_distances,
};

fn x() -> Array2<f64> {
    array![
        [0.5, -1.25, 3.0, 0.0],
        [2.0, 0.0, -0.75, 1.5],
        [0.0, 0.0, 1.0, 1.0]
    ]
}

fn y() -> Array2<f64> {
    array![[1.0, -1.0, 2.5, 0.25], [-0.5, 0.0, 0.0, 3.0]]
}

fn assert_close(what: &str, got: &Array2<f64>, want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let scale = g.abs().max(w.abs()).max(1e-300);
        assert!((g - w).abs() <= 1e-12 * scale, "{what}[{i}]: {g} != {w}");
    }
}

fn metric(name: &str, params: MetricParams, n: usize) -> Metric {
    Metric::from_name(name, params, n).unwrap()
}

#[test]
fn distances_by_name_as_scikit_learn_computes_them() {
    let cases: &[(&str, [f64; 6])] = &[
        (
            "euclidean",
            [
                0.7905694150420949,
                4.534589286804263,
                3.758324094593227,
                3.010398644698074,
                2.1937410968480306,
                2.29128784747792,
            ],
        ),
        (
            "sqeuclidean",
            [0.625, 20.5625, 14.125, 9.0625, 4.8125, 5.25],
        ),
        ("manhattan", [1.5, 8.25, 6.5, 4.75, 4.25, 3.5]),
        ("chebyshev", [0.5, 3.0, 3.25, 2.5, 1.5, 2.0]),
        (
            "cosine",
            [
                0.02430777700774822,
                1.024998047103852,
                0.933556742320999,
                0.5590961203465332,
                0.3255467265665377,
                0.3025141675370844,
            ],
        ),
        (
            "correlation",
            [
                0.01620320538274611,
                1.193331539283704,
                1.2473510844786777,
                0.7104210273224987,
                0.457410013966311,
                0.3688312557327974,
            ],
        ),
        (
            "canberra",
            [
                1.5353535353535355,
                4.0,
                3.0476190476190474,
                2.3333333333333335,
                3.0285714285714285,
                2.5,
            ],
        ),
        (
            "braycurtis",
            [
                0.15789473684210525,
                1.1379310344827587,
                0.8666666666666667,
                0.7037037037037037,
                0.6296296296296297,
                0.6363636363636364,
            ],
        ),
        ("hamming", [1.0, 1.0, 1.0, 0.75, 1.0, 0.75]),
    ];
    for (name, want) in cases {
        let m = metric(name, MetricParams::default(), 4);
        assert_close(name, &pairwise_distances(&m, x().view(), y().view()), want);
    }
    for alias in ["l2", "cityblock", "l1", "infinity"] {
        assert!(Metric::from_name(alias, MetricParams::default(), 4).is_ok());
    }
    let p3 = MetricParams {
        p: Some(3.0),
        ..Default::default()
    };
    assert_close(
        "minkowski p=3",
        &pairwise_distances(&metric("minkowski", p3, 4), x().view(), y().view()),
        &[
            0.6551853485522242,
            3.847445880022568,
            3.370249374719813,
            2.68800693519977,
            1.7963790376632978,
            2.089669598190616,
        ],
    );
    let weighted = MetricParams {
        p: Some(3.0),
        w: Some(vec![1.0, 2.0, 0.5, 1.5]),
        ..Default::default()
    };
    assert_close(
        "minkowski p=3 weighted",
        &pairwise_distances(&metric("minkowski", weighted, 4), x().view(), y().view()),
        &[
            0.6233288690298308,
            3.890933354323215,
            2.847725691477015,
            2.7544693165270315,
            1.7457379275973375,
            2.328504753901918,
        ],
    );
    let v = MetricParams {
        v: Some(vec![1.0, 2.0, 0.5, 4.0]),
        ..Default::default()
    };
    assert_close(
        "seuclidean",
        &pairwise_distances(&metric("seuclidean", v, 4), x().view(), y().view()),
        &[
            0.8926785535678563,
            4.6937458388796465,
            4.797460265598872,
            2.817356917396161,
            2.478028450199876,
            1.8027756377319946,
        ],
    );
    let vi = array![
        [2.0, 0.5, 0.0, 0.0],
        [0.5, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.5, 0.25],
        [0.0, 0.0, 0.25, 1.0]
    ];
    let vi = MetricParams {
        vi: Some(vi),
        ..Default::default()
    };
    assert_close(
        "mahalanobis",
        &pairwise_distances(&metric("mahalanobis", vi, 4), x().view(), y().view()),
        &[
            1.0307764064044151,
            4.5069390943299865,
            4.401704215414752,
            4.019483797703382,
            2.318404623873926,
            2.23606797749979,
        ],
    );
    let (x2, y2) = (
        x().select(ndarray::Axis(1), &[0, 1]),
        y().select(ndarray::Axis(1), &[0, 1]),
    );
    assert_close(
        "haversine",
        &pairwise_distances(
            &metric("haversine", MetricParams::default(), 2),
            x2.view(),
            y2.view(),
        ),
        &[
            0.5299307444327327,
            1.5577989269723116,
            0.8715212348676054,
            2.5,
            1.2745557823062943,
            0.5,
        ],
    );
}

#[test]
fn boolean_distances_read_non_zero_as_true() {
    let (b, c) = (
        x().mapv(|v| f64::from(u8::from(v > 0.4))),
        y().mapv(|v| f64::from(u8::from(v > 0.4))),
    );
    let cases: &[(&str, [f64; 6])] = &[
        (
            "jaccard",
            [0.0, 1.0, 0.6666666666666666, 0.5, 0.6666666666666666, 0.5],
        ),
        (
            "dice",
            [0.0, 1.0, 0.5, 0.3333333333333333, 0.5, 0.3333333333333333],
        ),
        ("matching", [0.0, 0.75, 0.5, 0.25, 0.5, 0.25]),
        (
            "rogerstanimoto",
            [
                0.0,
                0.8571428571428571,
                0.6666666666666666,
                0.4,
                0.6666666666666666,
                0.4,
            ],
        ),
        ("russellrao", [0.5, 1.0, 0.75, 0.75, 0.75, 0.75]),
        (
            "sokalmichener",
            [
                0.0,
                0.8571428571428571,
                0.6666666666666666,
                0.4,
                0.6666666666666666,
                0.4,
            ],
        ),
        (
            "sokalsneath",
            [0.0, 1.0, 0.8, 0.6666666666666666, 0.8, 0.6666666666666666],
        ),
    ];
    for (name, want) in cases {
        let m = metric(name, MetricParams::default(), 4);
        assert!(m.is_boolean());
        assert_close(name, &pairwise_distances(&m, b.view(), c.view()), want);
    }
}

#[test]
fn reduced_distances_rank_as_distances_do() {
    let params = MetricParams {
        p: Some(3.0),
        ..Default::default()
    };
    for m in [
        Metric::Euclidean,
        metric("minkowski", params, 4),
        Metric::Manhattan,
    ] {
        let (a, b) = ([0.5, -1.25, 3.0, 0.0], [2.0, 0.0, -0.75, 1.5]);
        let d = m.dist(&a, &b);
        assert!(
            (m.rdist_to_dist(m.rdist(&a, &b)) - d).abs() <= 1e-12 * d,
            "{}",
            m.name()
        );
        assert!(
            (m.dist_to_rdist(d) - m.rdist(&a, &b)).abs() <= 1e-12 * d.powi(3),
            "{}",
            m.name()
        );
    }
}

#[test]
fn nan_euclidean_skips_missing_coordinates() {
    let (mut xn, mut yn) = (x(), y());
    xn[[0, 1]] = f64::NAN;
    yn[[1, 3]] = f64::NAN;
    assert_close(
        "nan_euclidean",
        &nan_euclidean_distances(xn.view(), yn.view(), false),
        &[
            0.8660254037844386,
            4.47213595499958,
            3.758324094593227,
            3.013856886670854,
            2.1937410968480306,
            1.2909944487358056,
        ],
    );
}

/// A kernel's name, gamma, degree, coef0 and its matrix of `x()` × `y()`.
type KernelCase = (&'static str, Option<f64>, f64, f64, [f64; 6]);

#[test]
fn kernels_by_name_as_scikit_learn_computes_them() {
    let cases: &[KernelCase] = &[
        ("linear", None, 3.0, 0.0, [9.25, -0.25, 0.5, 3.5, 2.75, 3.0]),
        (
            "poly",
            Some(0.3),
            3.0,
            1.0,
            [
                53.79610937499999,
                0.7914531250000001,
                1.5208749999999998,
                8.615124999999997,
                6.078390625,
                6.858999999999999,
            ],
        ),
        (
            "rbf",
            Some(0.2),
            3.0,
            0.0,
            [
                0.8824969025845953,
                0.016366806321570428,
                0.05930865682943872,
                0.1632455124539584,
                0.3819368493039489,
                0.3499377491111553,
            ],
        ),
        (
            "sigmoid",
            Some(0.1),
            3.0,
            0.5,
            [
                0.8906373655681185,
                0.44223035604572614,
                0.5005202111902353,
                0.6910694698329306,
                0.6498274636719203,
                0.664036770267849,
            ],
        ),
        (
            "laplacian",
            Some(0.4),
            3.0,
            0.0,
            [
                0.5488116360940264,
                0.036883167401239994,
                0.07427357821433388,
                0.14956861922263504,
                0.1826835240527346,
                0.24659696394160643,
            ],
        ),
        (
            "cosine",
            None,
            3.0,
            0.0,
            [
                0.9756922229922518,
                -0.024998047103852037,
                0.06644325767900111,
                0.44090387965346683,
                0.6744532734334623,
                0.6974858324629156,
            ],
        ),
    ];
    for (name, gamma, degree, coef0, want) in cases {
        let k = Kernel::from_name(name, *gamma, *degree, *coef0, 4).unwrap();
        assert_close(name, &k.matrix(x().view(), y().view()), want);
    }
    let (p, q) = (x().mapv(f64::abs), y().mapv(f64::abs));
    let chi2 = Kernel::from_name("chi2", Some(0.7), 3.0, 0.0, 4).unwrap();
    assert!(chi2.needs_non_negative());
    assert_close(
        "chi2",
        &chi2.matrix(p.view(), q.view()),
        &[
            0.7096883897733662,
            0.0062510864396285665,
            0.10883212539724235,
            0.22201729383194943,
            0.11474993459727875,
            0.17377394345044514,
        ],
    );
    let additive = Kernel::from_name("additive_chi2", None, 3.0, 0.0, 4).unwrap();
    assert_close(
        "additive_chi2",
        &additive.matrix(p.view(), q.view()),
        &[
            -0.4898989898989899,
            -7.25,
            -3.1684981684981683,
            -2.15,
            -3.092857142857143,
            -2.5,
        ],
    );
    // gamma=None is 1 / n_features, as scikit-learn's kernels default it.
    assert_eq!(
        Kernel::from_name("rbf", None, 3.0, 0.0, 4).unwrap(),
        Kernel::Rbf { gamma: 0.25 }
    );
}

#[test]
fn unknown_names_and_bad_parameters_are_refused() {
    assert_eq!(
        Metric::from_name("wasserstein", MetricParams::default(), 3),
        Err(PairwiseError::UnknownMetric("wasserstein".into()))
    );
    assert!(Kernel::from_name("spline", None, 3.0, 0.0, 3).is_err());
    assert!(Metric::from_name("haversine", MetricParams::default(), 3).is_err());
    assert!(Metric::from_name("seuclidean", MetricParams::default(), 3).is_err());
    let short = MetricParams {
        v: Some(vec![1.0]),
        ..Default::default()
    };
    assert!(Metric::from_name("seuclidean", short, 3).is_err());
    let negative = MetricParams {
        p: Some(-1.0),
        ..Default::default()
    };
    assert!(Metric::from_name("minkowski", negative, 3).is_err());
    // Minkowski p = 1, 2, ∞ without weights are the named metrics, as DistanceMetric makes them.
    let p1 = MetricParams {
        p: Some(1.0),
        ..Default::default()
    };
    assert_eq!(Metric::from_name("minkowski", p1, 3), Ok(Metric::Manhattan));
    assert_eq!(
        Metric::from_name("minkowski", MetricParams::default(), 3),
        Ok(Metric::Euclidean)
    );
}
