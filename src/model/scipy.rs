//! scipy's sparse matrices as a fitted estimator keeps them (`csr_matrix`, `csr_array`): a
//! TfidfTransformer's `_idf_diag` before scikit-learn 1.5, a sparse random projection's
//! `components_`. Read from their pickled state (`_shape`, `indptr`, `indices`, `data`) into a
//! [`Csr`], every index checked, every error naming the attribute that holds the matrix.

use super::LoadError;
use super::allow::SkClass;
use super::sparse::Csr;
use super::state::{State, number_of};
use super::value::Value;

/// Whether `class` is one of scipy's sparse matrices.
pub fn is_sparse(class: SkClass) -> bool {
    matches!(class, SkClass::CsrMatrix | SkClass::CsrArray)
}

/// The sparse matrix `value`, held by `owner`'s attribute `attr`.
pub fn read_csr(owner: &State<'_>, attr: &str, value: Value) -> Result<Csr, LoadError> {
    let state = State::of(owner.heap, value, &owner.path)
        .ok()
        .filter(|s| is_sparse(s.class))
        .ok_or_else(|| owner.malformed(attr, "is not a scipy CSR matrix"))?;
    let bad = |what: &str, problem: String| owner.malformed(&format!("{attr}.{what}"), problem);
    let shape: Vec<usize> = state
        .items("_shape")
        .ok()
        .and_then(|items| {
            items
                .iter()
                .map(|v| number_of(owner.heap, *v))
                .map(|n| {
                    n.filter(|n| *n >= 0.0 && n.fract() == 0.0)
                        .map(|n| n as usize)
                })
                .collect::<Option<Vec<usize>>>()
        })
        .filter(|s| s.len() == 2)
        .ok_or_else(|| bad("_shape", "is not a pair of sizes".into()))?;
    let index = |name: &str| -> Result<Vec<usize>, LoadError> {
        let (values, dims) = state
            .numbers(name)
            .map_err(|_| bad(name, "is not an array of integers".into()))?;
        if dims.len() != 1 {
            return Err(bad(
                name,
                format!("has shape {dims:?}, expected one dimension"),
            ));
        }
        values
            .iter()
            .map(|&v| (v >= 0.0 && v.fract() == 0.0).then_some(v as usize))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| bad(name, "holds a negative or fractional index".into()))
    };
    let indptr = index("indptr")?;
    let indices = index("indices")?;
    let (data, dims) = state
        .numbers("data")
        .map_err(|_| bad("data", "is not numeric".into()))?;
    if dims.len() != 1 {
        return Err(bad(
            "data",
            format!("has shape {dims:?}, expected one dimension"),
        ));
    }
    if indptr.len() != shape[0] + 1 {
        return Err(bad(
            "indptr",
            format!("has {} entries for {} rows", indptr.len(), shape[0]),
        ));
    }
    Csr::from_parts(shape[1], indptr, indices, data).map_err(|e| owner.malformed(attr, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_csr_classes_are_sparse() {
        assert!(is_sparse(SkClass::CsrMatrix) && is_sparse(SkClass::CsrArray));
        assert!(!is_sparse(SkClass::Pipeline));
    }
}
