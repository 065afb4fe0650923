//! Fitted arrays read with their shapes and values checked, for the rooms of dense models
//! (kernels, neighbours, Bayesian, neural, discriminant, linear, clusters, mixtures, Gaussian
//! processes): a matrix of the shape the rest of the state implies, finite values, positive
//! numbers and counts, integer arrays in range, names among the known ones. Every error
//! names the attribute (through [`State::malformed`]). The transformers of these rooms take
//! their input here too ([`floats`]), refusing a missing value as scikit-learn's
//! `check_array` does.
//!
//! What must not live here: any one estimator's rules.

use ndarray::{Array1, Array2};

use super::LoadError;
use super::estimator::{Data, Problem, Refusal, first_not_finite};
use super::state::State;
use super::value::Elements;

/// `None` in a shape: any length.
pub type Dim = Option<usize>;

fn shape_text(dims: &[Dim]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| d.map_or_else(|| "_".to_owned(), |n| n.to_string()))
        .collect();
    format!("[{}]", parts.join(", "))
}

/// A numeric array of exactly `dims` dimensions, each as given, every value finite; flattened
/// row-major, with its shape.
pub fn array(
    state: &State<'_>,
    name: &str,
    dims: &[Dim],
) -> Result<(Vec<f64>, Vec<usize>), LoadError> {
    let (values, shape) = state.numbers(name)?;
    let fits = shape.len() == dims.len()
        && shape
            .iter()
            .zip(dims)
            .all(|(s, d)| d.is_none_or(|d| d == *s));
    if !fits {
        return Err(state.malformed(
            name,
            format!("has shape {shape:?}, expected {}", shape_text(dims)),
        ));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(state.malformed(
            &format!("{name}[{}]", index_text(&shape, i)),
            format!("is {}, not a finite number", values[i]),
        ));
    }
    Ok((values, shape))
}

/// Position `i` of a row-major array of `shape`, as numpy prints an index (`3, 1`).
fn index_text(shape: &[usize], mut i: usize) -> String {
    let mut parts = vec![0; shape.len()];
    for (part, &n) in parts.iter_mut().zip(shape).rev() {
        *part = i % n.max(1);
        i /= n.max(1);
    }
    parts
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A finite matrix of `rows` × `cols`.
pub fn matrix(
    state: &State<'_>,
    name: &str,
    rows: Dim,
    cols: Dim,
) -> Result<Array2<f64>, LoadError> {
    let (values, shape) = array(state, name, &[rows, cols])?;
    Ok(Array2::from_shape_vec((shape[0], shape[1]), values).expect("the shape was checked"))
}

/// A finite vector of `len` values.
pub fn vector(state: &State<'_>, name: &str, len: Dim) -> Result<Array1<f64>, LoadError> {
    Ok(Array1::from(array(state, name, &[len])?.0))
}

/// A finite number (a Python float or int, or a numpy scalar or one-element array).
pub fn scalar(state: &State<'_>, name: &str) -> Result<f64, LoadError> {
    match state.number(name)? {
        Some(v) if v.is_finite() => Ok(v),
        Some(v) => Err(state.malformed(name, format!("is {v}, not a finite number"))),
        None => Err(state.malformed(name, "is missing")),
    }
}

/// A vector of integers in `0..bound` (indices).
pub fn indices(
    state: &State<'_>,
    name: &str,
    len: Dim,
    bound: usize,
) -> Result<Vec<usize>, LoadError> {
    let (values, _) = array(state, name, &[len])?;
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v.fract() == 0.0 && v >= 0.0 && v < bound as f64 {
                Ok(v as usize)
            } else {
                Err(state.malformed(
                    &format!("{name}[{i}]"),
                    format!("is {v}, not an index below {bound}"),
                ))
            }
        })
        .collect()
}

/// A string setting that must be one of `known`.
pub fn one_of<'h>(state: &State<'h>, name: &str, known: &[&str]) -> Result<&'h str, LoadError> {
    let value = state.text_required(name)?;
    if known.contains(&value) {
        Ok(value)
    } else {
        Err(state.malformed(
            name,
            format!("is {value:?}, not one of {}", known.join(", ")),
        ))
    }
}

/// The number of features, as the arrays imply it, checked against `n_features_in_` and
/// `feature_names_in_`.
pub fn features(state: &State<'_>, n: usize, what: &str) -> Result<usize, LoadError> {
    if n == 0 {
        return Err(state.malformed(what, "has no features"));
    }
    state.check_n_features(n, what)?;
    Ok(n)
}

/// A number that must be above zero.
pub fn positive(state: &State<'_>, name: &str) -> Result<f64, LoadError> {
    let value = scalar(state, name)?;
    if value <= 0.0 {
        return Err(state.malformed(name, format!("is {value}, not above zero")));
    }
    Ok(value)
}

/// Refuses the first value that is NaN or infinite, naming its position in the flat array.
pub fn finite(state: &State<'_>, name: &str, values: &[f64]) -> Result<(), LoadError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(state.malformed(
            &format!("{name}[{i}]"),
            format!("is {}, not a finite number", values[i]),
        )),
        None => Ok(()),
    }
}

/// An array of booleans (a mask), flattened.
pub fn bools(state: &State<'_>, name: &str) -> Result<Vec<bool>, LoadError> {
    match &state.array(name)?.elements {
        Elements::Bool(values) => Ok(values.clone()),
        _ => Err(state.malformed(name, "is not an array of booleans")),
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

/// A transformer's input as float64 rows, refusing a missing value (as `check_array` with
/// `ensure_all_finite=True` does) at its row and feature.
pub fn floats(data: Data, step: &str) -> Result<Array2<f64>, Refusal> {
    let (x, _) = data.into_floats(step)?;
    if let Some((row, feature)) = first_not_finite(x.view()) {
        return Err(Refusal {
            row,
            feature,
            problem: Problem::Missing {
                step: step.to_owned(),
            },
        });
    }
    Ok(x)
}

/// Charges a copy a model derives from its fitted arrays at load (`what`: `support_vectors_
/// interleaved`), a layout its predictions read faster, to the loading budget.
pub fn charge_derived(state: &State<'_>, what: &str, bytes: usize) -> Result<(), LoadError> {
    Ok(state
        .heap
        .budget()
        .charge(bytes, || format!("{}: {what}", state.label()))?)
}
