//! Fitted arrays as the dense estimators use them: an attribute of an object's state read as
//! an ndarray matrix, vector or number, its shape checked against what the estimator says
//! elsewhere and every value finite, each refusal naming the attribute (through
//! [`State::malformed`]).
//!
//! What must not live here: knowledge of any one estimator, or arithmetic on the arrays.

use ndarray::{Array1, Array2};

use super::LoadError;
use super::state::State;

/// A 2-D attribute of `rows × cols` (either `None`: any), every value finite.
pub fn matrix(
    state: &State<'_>,
    name: &str,
    rows: Option<usize>,
    cols: Option<usize>,
) -> Result<Array2<f64>, LoadError> {
    let (values, shape) = state.numbers(name)?;
    let [r, c] = shape[..] else {
        return Err(state.malformed(name, format!("has shape {shape:?}, expected 2 dimensions")));
    };
    if rows.is_some_and(|n| n != r) || cols.is_some_and(|n| n != c) {
        let want = |d: Option<usize>| d.map_or("any".to_owned(), |d| d.to_string());
        return Err(state.malformed(
            name,
            format!(
                "has shape {shape:?}, expected [{}, {}]",
                want(rows),
                want(cols)
            ),
        ));
    }
    finite(state, name, &values)?;
    Ok(Array2::from_shape_vec((r, c), values).expect("the shape holds the values"))
}

/// A 1-D attribute of `len` values (`None`: any), every value finite.
pub fn vector(state: &State<'_>, name: &str, len: Option<usize>) -> Result<Array1<f64>, LoadError> {
    let (values, shape) = state.numbers(name)?;
    if shape.len() != 1 || len.is_some_and(|n| n != values.len()) {
        let want = len.map_or("any".to_owned(), |n| n.to_string());
        return Err(state.malformed(name, format!("has shape {shape:?}, expected [{want}]")));
    }
    finite(state, name, &values)?;
    Ok(Array1::from(values))
}

/// A number (a Python float or int, or a numpy scalar or one-element array), finite.
pub fn scalar(state: &State<'_>, name: &str) -> Result<f64, LoadError> {
    let (values, shape) = state.numbers(name)?;
    if values.len() != 1 || shape.iter().product::<usize>() != 1 {
        return Err(state.malformed(name, format!("has shape {shape:?}, expected one number")));
    }
    finite(state, name, &values)?;
    Ok(values[0])
}

/// A number that must be above zero.
pub fn positive(state: &State<'_>, name: &str) -> Result<f64, LoadError> {
    let value = scalar(state, name)?;
    if value <= 0.0 {
        return Err(state.malformed(name, format!("is {value}, not above zero")));
    }
    Ok(value)
}

/// Refuses the first value that is NaN or infinite.
pub fn finite(state: &State<'_>, name: &str, values: &[f64]) -> Result<(), LoadError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(state.malformed(
            &format!("{name}[{i}]"),
            format!("is {}, not a finite number", values[i]),
        )),
        None => Ok(()),
    }
}

/// A count attribute that must be there and at least `min`.
pub fn count(state: &State<'_>, name: &str, min: usize) -> Result<usize, LoadError> {
    let n = state
        .count(name)?
        .ok_or_else(|| state.malformed(name, "is missing"))?;
    if n < min {
        return Err(state.malformed(name, format!("is {n}, below {min}")));
    }
    Ok(n)
}

/// `n_features_in_` agreeing with the `n` columns the fitted arrays imply; the feature names,
/// where recorded, as many.
pub fn features(state: &State<'_>, n: usize, what: &str) -> Result<usize, LoadError> {
    if n == 0 {
        return Err(state.malformed(what, "has no features"));
    }
    state.check_n_features(n, what)?;
    Ok(n)
}
