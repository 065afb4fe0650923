//! Linear models: the classifiers (`classifier`) and regressors (`regressor`) read from their
//! fitted state, every field validated here (shapes agree, classes are labels, weights are
//! finite) so that prediction never checks again.
//!
//! # Layout
//! - `math`: the dot product and `exp` they share.
//! - `classifier`: decision functions, `predict`, the three ways to `predict_proba`.
//! - `regressor`: `X @ coef_ + intercept_` and the GLMs' links.
//! - `bayes`: BayesianRidge and ARDRegression, with the standard deviation of their
//!   predictions.
//! - `one_class`: SGDOneClassSVM, an outlier detector.
//! - `ransac`: RANSACRegressor, served through the estimator it refitted on its inliers.

pub mod bayes;
pub mod classifier;
pub mod math;
pub mod one_class;
pub mod ransac;
pub mod regressor;

use super::LoadError;
use super::allow::SkClass;
use super::classes::read_classes;
use super::compose::{Model, Step, StepReader};
use super::estimator::Predictor;
use super::state::State;
pub use classifier::{Classifier, LinearClassifier, ProbaRule};
pub use regressor::{Link, Regressor};

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    use SkClass::*;
    matches!(
        class,
        LogisticRegression
            | SgdClassifier
            | LinearSvc
            | RidgeClassifier
            | RidgeClassifierCv
            | Perceptron
            | LinearRegression
            | Ridge
            | RidgeCv
            | Lasso
            | LassoCv
            | ElasticNet
            | ElasticNetCv
            | SgdRegressor
            | HuberRegressor
            | LinearSvr
            | PoissonRegressor
            | GammaRegressor
            | TweedieRegressor
            | QuantileRegressor
            | BayesianRidge
            | ArdRegression
            | TheilSenRegressor
            | RansacRegressor
            | PassiveAggressiveClassifier
            | PassiveAggressiveRegressor
            | LogisticRegressionCv
            | Lars
            | LarsCv
            | LassoLars
            | LassoLarsCv
            | LassoLarsIc
            | OrthogonalMatchingPursuit
            | OrthogonalMatchingPursuitCv
            | SgdOneClassSvm
            | MultiTaskLasso
            | MultiTaskElasticNet
            | MultiTaskLassoCv
            | MultiTaskElasticNetCv
    )
}

/// Reads a step of one of this room's classes; `reader` reads the estimator RANSACRegressor
/// holds.
pub fn read_step(state: &State<'_>, reader: &dyn StepReader) -> Result<Step, LoadError> {
    if state.class == SkClass::RansacRegressor {
        return ransac::read(state, reader);
    }
    Ok(Step::Model(Model {
        transformers: Vec::new(),
        predictor: read(state)?,
        wrappers: Vec::new(),
    }))
}

/// Reads the linear model whose state is `state`.
pub fn read(state: &State<'_>) -> Result<Box<dyn Predictor>, LoadError> {
    use SkClass::*;
    match state.class {
        LogisticRegression
        | SgdClassifier
        | LinearSvc
        | RidgeClassifier
        | RidgeClassifierCv
        | Perceptron
        | PassiveAggressiveClassifier
        | LogisticRegressionCv => Ok(Box::new(read_classifier(state)?)),
        BayesianRidge | ArdRegression => Ok(Box::new(bayes::read(state, read_regressor(state)?)?)),
        SgdOneClassSvm => Ok(Box::new(one_class::read(state)?)),
        _ => Ok(Box::new(read_regressor(state)?)),
    }
}

/// `coef_` as `n_outputs × n_features` and whether it was 1-D.
pub(crate) fn read_coef(state: &State<'_>) -> Result<(Vec<f64>, usize, usize, bool), LoadError> {
    let (values, shape) = state.numbers("coef_")?;
    let (n_outputs, n_features, one_d) = match shape[..] {
        [rows, cols] => (rows, cols, false),
        [cols] => (1, cols, true),
        _ => {
            return Err(state.malformed(
                "coef_",
                format!("has shape {shape:?}, expected 1 or 2 dimensions"),
            ));
        }
    };
    if n_features == 0 || n_outputs == 0 {
        return Err(state.malformed("coef_", format!("has shape {shape:?}: no weights")));
    }
    if let Some(i) = values.iter().position(|w| !w.is_finite()) {
        return Err(state.malformed("coef_", format!("holds {} at {i}", values[i])));
    }
    Ok((values, n_outputs, n_features, one_d))
}

/// `intercept_`, one per output (a plain number stands for every output).
fn read_intercept(state: &State<'_>, n_outputs: usize) -> Result<Vec<f64>, LoadError> {
    let (intercept, _) = state.numbers("intercept_")?;
    let intercept = match intercept.len() {
        1 if n_outputs > 1 => vec![intercept[0]; n_outputs],
        n if n == n_outputs => intercept,
        n => {
            return Err(state.malformed(
                "intercept_",
                format!("has {n} values but coef_ has {n_outputs} row(s)"),
            ));
        }
    };
    if intercept.iter().any(|w| !w.is_finite()) {
        return Err(state.malformed("intercept_", "holds NaN or infinity"));
    }
    Ok(intercept)
}

fn read_classifier(state: &State<'_>) -> Result<Classifier, LoadError> {
    let classes = match state.class {
        SkClass::RidgeClassifier | SkClass::RidgeClassifierCv => {
            let binarizer = state.get("_label_binarizer")?;
            let inner = State::of(state.heap, binarizer, &state.path)
                .ok()
                .filter(|s| s.class == SkClass::LabelBinarizer)
                .ok_or_else(|| state.malformed("_label_binarizer", "is not a LabelBinarizer"))?;
            read_classes(&inner, "classes_")
                .map_err(|_| state.malformed("_label_binarizer", "holds no valid classes_"))?
        }
        _ => read_classes(state, "classes_")?,
    };
    if classes.len() < 2 {
        return Err(state.malformed(
            "classes_",
            format!(
                "holds {} class(es); a classifier needs at least 2",
                classes.len()
            ),
        ));
    }
    let (coef, n_outputs, n_features, _) = read_coef(state)?;
    let expected_outputs = if classes.len() == 2 { 1 } else { classes.len() };
    if n_outputs != expected_outputs {
        return Err(state.malformed(
            "coef_",
            format!(
                "has {n_outputs} row(s) but {} classes need {expected_outputs}",
                classes.len()
            ),
        ));
    }
    let intercept = read_intercept(state, n_outputs)?;
    state.check_n_features(n_features, "coef_")?;
    Ok(Classifier {
        class: state.class,
        weights: LinearClassifier {
            coef,
            intercept,
            n_features,
            n_outputs,
            n_classes: classes.len(),
            proba: proba_rule(state, classes.len()),
        },
        classes,
    })
}

/// How this classifier, as saved, computes `predict_proba`.
fn proba_rule(state: &State<'_>, n_classes: usize) -> ProbaRule {
    match state.class {
        SkClass::LogisticRegression | SkClass::LogisticRegressionCv => {
            // newton-cholesky fitted one-vs-rest until scikit-learn 1.6 taught it softmax.
            let ovr_solver = match state.text("solver") {
                Some("liblinear") => true,
                Some("newton-cholesky") => state.saved_before((1, 6)),
                _ => false,
            };
            match state.text("multi_class") {
                Some("ovr" | "warn") => ProbaRule::OneVsRest,
                Some("multinomial") => ProbaRule::Multinomial,
                // "auto" (≤ 1.4), "deprecated" (1.5–1.7) and absent (1.8+): one-vs-rest for
                // binary models and one-vs-rest solvers, softmax otherwise.
                _ if n_classes <= 2 || ovr_solver => ProbaRule::OneVsRest,
                _ => ProbaRule::Multinomial,
            }
        }
        SkClass::SgdClassifier => match state.text("loss") {
            Some("log_loss" | "log") => ProbaRule::OneVsRest,
            Some("modified_huber") => ProbaRule::ModifiedHuber,
            _ => ProbaRule::None,
        },
        _ => ProbaRule::None,
    }
}

pub(crate) fn read_regressor(state: &State<'_>) -> Result<Regressor, LoadError> {
    let (coef, n_outputs, n_features, one_d) = read_coef(state)?;
    let intercept = read_intercept(state, n_outputs)?;
    state.check_n_features(n_features, "coef_")?;
    let link = match state.class {
        SkClass::PoissonRegressor | SkClass::GammaRegressor => Link::Log,
        SkClass::TweedieRegressor => tweedie_link(state)?,
        _ => Link::Identity,
    };
    if link == Link::Log && n_outputs != 1 {
        return Err(state.malformed("coef_", "has several rows; a GLM has one"));
    }
    Ok(Regressor {
        class: state.class,
        coef,
        intercept,
        n_features,
        n_outputs,
        one_d,
        link,
    })
}

/// TweedieRegressor's link: `identity`, `log`, or `auto` (identity for a power of 0 or
/// below, the Normal distribution; log otherwise), as every version from 1.1 on decides it.
fn tweedie_link(state: &State<'_>) -> Result<Link, LoadError> {
    match state.text("link") {
        Some("identity") => Ok(Link::Identity),
        Some("log") => Ok(Link::Log),
        Some("auto") | None => {
            let power = state
                .number("power")?
                .ok_or_else(|| state.malformed("power", "is missing"))?;
            Ok(if power <= 0.0 {
                Link::Identity
            } else {
                Link::Log
            })
        }
        Some(other) => {
            Err(state.unsupported(format!("link={other:?} is not a link skserve knows")))
        }
    }
}
