//! Support vector machines fitted by libsvm (SVC, NuSVC, SVR, NuSVR, OneClassSVM), read from
//! their fitted state and checked field by field: the kernel among libsvm's four, `_gamma`,
//! `degree` and `coef0` usable, the support vectors, dual coefficients, intercepts, per-class
//! counts (`_n_support`, the check scikit-learn added for CVE-2020-28975) and Platt
//! coefficients of agreeing shapes, every value finite, `support_` indices within the
//! training set. A model fitted on sparse data, or with a precomputed or callable kernel, is
//! refused with the reason.
//!
//! # Layout
//! - `libsvm`: the kernels, decision values, votes and probabilities as libsvm computes them.
//! - `predictor`: the [`Svm`] predictor: `predict`, `decision_function` (ovr and ovo),
//!   `predict_proba`, `score_samples`, and explanations of linear kernels.

pub mod libsvm;
pub mod predictor;

use super::LoadError;
use super::allow::SkClass;
use super::classes::{Classes, read_classes};
use super::estimator::Predictor;
use super::fitted::{self, Dim};
use super::simd::Interleaved;
use super::state::State;
pub use libsvm::{LibsvmModel, SvmKernel};
pub use predictor::{Svm, SvmKind};

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    use SkClass::*;
    matches!(class, Svc | NuSvc | Svr | NuSvr | OneClassSvm)
}

/// Reads the SVM whose state is `state`.
pub fn read(state: &State<'_>) -> Result<Box<dyn Predictor>, LoadError> {
    Ok(Box::new(read_svm(state)?))
}

fn read_svm(state: &State<'_>) -> Result<Svm, LoadError> {
    let kind = match state.class {
        SkClass::Svc => SvmKind::Svc,
        SkClass::NuSvc => SvmKind::NuSvc,
        SkClass::Svr | SkClass::NuSvr => SvmKind::Regressor,
        SkClass::OneClassSvm => SvmKind::OneClass,
        other => unreachable!("{other:?} is not an SVM"),
    };
    if state.bool_or("_sparse", false)? {
        return Err(state.unsupported(
            "was fitted on sparse data (its support vectors are a sparse matrix); \
             skserve serves SVMs fitted on dense data",
        ));
    }
    let kernel = read_kernel(state)?;
    let support_vectors = fitted::matrix(state, "support_vectors_", None, None)?;
    let (n_sv, n_features) = support_vectors.dim();
    fitted::features(state, n_features, "support_vectors_")?;
    check_shape_fit(state, n_sv, n_features)?;
    let interleaved = Interleaved::<f64>::bytes(n_sv, n_features);
    fitted::charge_derived(state, "support_vectors_ interleaved", interleaved)?;
    let classifier = matches!(kind, SvmKind::Svc | SvmKind::NuSvc);
    let classes = if classifier {
        let classes = read_classes(state, "classes_")?;
        if classes.len() < 2 {
            return Err(state.malformed(
                "classes_",
                format!(
                    "holds {} class(es); a classifier needs at least 2",
                    classes.len()
                ),
            ));
        }
        Some(classes)
    } else {
        None
    };
    let n_class = classes.as_ref().map_or(2, Classes::len);
    let n_pairs = n_class * (n_class - 1) / 2;
    let n_support = read_n_support(state, classifier, n_class, n_sv)?;
    let dual_coef = fitted::matrix(state, "_dual_coef_", Some(n_class - 1), Some(n_sv))?;
    let intercept = fitted::vector(state, "_intercept_", Some(n_pairs))?;
    let (prob_a, prob_b) = read_platt(state, n_pairs)?;
    let probability = match state.attr("probability") {
        Some(_) if state.text("probability").is_some() => false,
        Some(_) => state.bool_or("probability", false)?,
        None => false,
    };
    if probability && classifier && prob_a.is_empty() {
        return Err(state.malformed(
            "_probA",
            "is empty, but the model was fitted with probability=True",
        ));
    }
    let decision_shape = match state.text("decision_function_shape") {
        None => "ovr",
        Some(_) => fitted::one_of(state, "decision_function_shape", &["ovr", "ovo"])?,
    };
    let break_ties = state.bool_or("break_ties", false)?;
    let offset = match kind {
        SvmKind::OneClass => Some(
            fitted::array(state, "offset_", &[Some(1)])
                .or_else(|_| fitted::scalar(state, "offset_").map(|v| (vec![v], vec![])))?
                .0[0],
        ),
        _ => None,
    };
    Ok(Svm {
        class: state.class,
        kind,
        model: LibsvmModel::new(
            kernel,
            n_features,
            support_vectors.into_iter().collect(),
            dual_coef.into_iter().collect(),
            // `set_model`: rho = −intercept.
            intercept.iter().map(|b| -b).collect(),
            n_support,
        ),
        classes: classes.unwrap_or(Classes::Int(vec![-1, 1])),
        probability: (probability && classifier).then_some((prob_a, prob_b)),
        ovo: decision_shape == "ovo",
        break_ties,
        offset,
    })
}

/// The kernel and its parameters as libsvm is given them.
fn read_kernel(state: &State<'_>) -> Result<SvmKernel, LoadError> {
    let name = match state.text("kernel") {
        Some("precomputed") => {
            return Err(state.unsupported(
                "has kernel='precomputed': it takes kernel values against the training set, \
                 not features; skserve serves SVMs of the linear, poly, rbf and sigmoid kernels",
            ));
        }
        Some(_) => fitted::one_of(state, "kernel", &["linear", "poly", "rbf", "sigmoid"])?,
        None => return Err(state.malformed("kernel", "is not a kernel name (a callable kernel?)")),
    };
    if name == "linear" {
        return Ok(SvmKernel::Linear);
    }
    let gamma = fitted::scalar(state, "_gamma")?;
    if gamma < 0.0 {
        return Err(state.malformed("_gamma", format!("is {gamma}, not a number ≥ 0")));
    }
    let coef0 = match state.number("coef0")? {
        Some(v) if v.is_finite() => v,
        Some(v) => return Err(state.malformed("coef0", format!("is {v}, not a finite number"))),
        None => 0.0,
    };
    Ok(match name {
        "poly" => {
            let degree = match state.attr("degree") {
                Some(super::value::Value::Int(d)) if (0..=i32::MAX as i64).contains(&d) => d as i32,
                _ => return Err(state.malformed("degree", "is not an integer ≥ 0")),
            };
            SvmKernel::Poly {
                gamma,
                degree,
                coef0,
            }
        }
        "rbf" => SvmKernel::Rbf { gamma },
        _ => SvmKernel::Sigmoid { gamma, coef0 },
    })
}

/// `shape_fit_`, the training set's shape: its features must be the support vectors', and
/// `support_` must index into its rows.
fn check_shape_fit(state: &State<'_>, n_sv: usize, n_features: usize) -> Result<(), LoadError> {
    let Some(value) = state.attr("shape_fit_") else {
        return Ok(());
    };
    let dims: Option<Vec<usize>> = state.heap.tuple(value).and_then(|items| {
        items
            .iter()
            .map(|v| match v {
                super::value::Value::Int(n) if *n >= 0 => Some(*n as usize),
                _ => None,
            })
            .collect()
    });
    let Some([n_samples, width]) = dims.as_deref().and_then(|d| <[usize; 2]>::try_from(d).ok())
    else {
        return Err(state.malformed("shape_fit_", "is not a pair of counts"));
    };
    if width != n_features {
        return Err(state.malformed(
            "shape_fit_",
            format!("says {width} features but support_vectors_ has {n_features}"),
        ));
    }
    if state.has("support_") {
        fitted::indices(state, "support_", Some(n_sv), n_samples)?;
    }
    Ok(())
}

/// `_n_support`: for a classifier, the support vectors of each class, summing to all of
/// them; for the others, `[n_SV, 0]`.
fn read_n_support(
    state: &State<'_>,
    classifier: bool,
    n_class: usize,
    n_sv: usize,
) -> Result<Vec<usize>, LoadError> {
    let len: Dim = if classifier { Some(n_class) } else { None };
    let counts = fitted::indices(state, "_n_support", len, usize::MAX >> 12)?;
    if classifier {
        let total: usize = counts.iter().sum();
        if total != n_sv {
            return Err(state.malformed(
                "_n_support",
                format!("counts {total} support vectors but support_vectors_ holds {n_sv}"),
            ));
        }
        Ok(counts)
    } else {
        if counts.first().is_some_and(|&c| c != n_sv) {
            return Err(state.malformed(
                "_n_support",
                format!(
                    "counts {} support vectors but support_vectors_ holds {n_sv}",
                    counts[0]
                ),
            ));
        }
        Ok(Vec::new())
    }
}

/// `_probA` and `_probB`: one Platt pair per pair of classes, or none.
fn read_platt(state: &State<'_>, n_pairs: usize) -> Result<(Vec<f64>, Vec<f64>), LoadError> {
    if !state.has("_probA") {
        return Ok((Vec::new(), Vec::new()));
    }
    let a = fitted::vector(state, "_probA", None)?.to_vec();
    if !a.is_empty() && a.len() != n_pairs {
        return Err(state.malformed(
            "_probA",
            format!(
                "has {} values, expected {n_pairs} (one per pair of classes)",
                a.len()
            ),
        ));
    }
    let b = fitted::vector(state, "_probB", Some(a.len()))?.to_vec();
    Ok((a, b))
}
