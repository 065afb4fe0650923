//! Sparse rows: a matrix in compressed sparse rows ([`Csr`]), as scipy's `csr_matrix` holds
//! what the text vectorizers give (a few stored values per row among tens of thousands of
//! columns), and the operations scikit-learn applies to one without making it dense: row
//! norms (`normalize`), a column scaling (`X.data *= idf_[X.indices]`), column selection
//! and side-by-side stacking, and the product with dense weights in scipy's order.
//!
//! A predictor that gains nothing from sparsity is handed dense rows, a block at a time
//! ([`Csr::dense_blocks`]), so that a batch of documents over a large vocabulary is never
//! dense all at once. What must not live here: reading a pickled matrix (that is
//! `crate::model::scipy`) and any estimator's arithmetic.

use std::ops::Range;

use ndarray::{Array2, ArrayView2};

use super::input::Dtype;

/// Rows × columns, each row's stored values in ascending column order, each column at most
/// once per row. A value not stored is zero.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Csr {
    n_cols: usize,
    /// Row `i`'s entries are `indptr[i]..indptr[i + 1]`.
    indptr: Vec<usize>,
    indices: Vec<usize>,
    values: Vec<f64>,
}

/// How [`Csr::normalize_rows`] measures a row, as `sklearn.preprocessing.normalize` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    L1,
    L2,
    Max,
}

impl Norm {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "l1" => Some(Self::L1),
            "l2" => Some(Self::L2),
            "max" => Some(Self::Max),
            _ => None,
        }
    }
}

/// At most this many values are made dense at once for a predictor that takes dense rows.
const DENSE_BLOCK_VALUES: usize = 1 << 20;

impl Csr {
    /// No rows yet, `n_cols` columns, room for `rows` rows and `nnz` values.
    pub fn with_capacity(n_cols: usize, rows: usize, nnz: usize) -> Self {
        let mut indptr = Vec::with_capacity(rows + 1);
        indptr.push(0);
        Self {
            n_cols,
            indptr,
            indices: Vec::with_capacity(nnz),
            values: Vec::with_capacity(nnz),
        }
    }

    /// From scipy's three arrays, checked: `indptr` starts at 0 and never decreases, ends at
    /// the number of values, and each row's columns are in range. Unsorted rows are sorted and
    /// repeated columns summed (scipy's `sum_duplicates`), as scikit-learn would see them.
    pub fn from_parts(
        n_cols: usize,
        indptr: Vec<usize>,
        indices: Vec<usize>,
        values: Vec<f64>,
    ) -> Result<Self, String> {
        if indptr.first() != Some(&0) {
            return Err("indptr does not start at 0".into());
        }
        if indices.len() != values.len() {
            return Err(format!(
                "indices has {} entries but data has {}",
                indices.len(),
                values.len()
            ));
        }
        if indptr.last() != Some(&indices.len()) {
            return Err(format!(
                "indptr ends at {} but there are {} values",
                indptr.last().copied().unwrap_or(0),
                indices.len()
            ));
        }
        if let Some(i) = indptr.windows(2).position(|w| w[1] < w[0]) {
            return Err(format!("indptr decreases at row {i}"));
        }
        if let Some(&j) = indices.iter().find(|&&j| j >= n_cols) {
            return Err(format!("indices holds column {j} of {n_cols}"));
        }
        let mut out = Self::with_capacity(n_cols, indptr.len() - 1, values.len());
        let mut row: Vec<(usize, f64)> = Vec::new();
        for w in indptr.windows(2) {
            row.clear();
            row.extend(
                indices[w[0]..w[1]]
                    .iter()
                    .copied()
                    .zip(values[w[0]..w[1]].iter().copied()),
            );
            row.sort_by_key(|(j, _)| *j);
            for &(j, v) in &row {
                if out.indices.len() > out.indptr[out.indptr.len() - 1]
                    && out.indices.last() == Some(&j)
                {
                    *out.values.last_mut().expect("a value") += v;
                } else {
                    out.push(j, v);
                }
            }
            out.end_row();
        }
        Ok(out)
    }

    /// Appends a value to the row being built; columns must come in ascending order.
    #[inline]
    pub fn push(&mut self, column: usize, value: f64) {
        debug_assert!(column < self.n_cols);
        self.indices.push(column);
        self.values.push(value);
    }

    /// Ends the row being built.
    #[inline]
    pub fn end_row(&mut self) {
        self.indptr.push(self.indices.len());
    }

    pub fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// The number of stored values.
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Row `i`: its columns and their values.
    #[inline]
    pub fn row(&self, i: usize) -> (&[usize], &[f64]) {
        let range = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[range.clone()], &self.values[range])
    }

    /// Every stored value, row after row.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    pub fn values_mut(&mut self) -> &mut [f64] {
        &mut self.values
    }

    /// The column of every stored value, row after row.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }

    /// Each stored value with its column, to change in place.
    pub fn entries_mut(&mut self) -> impl Iterator<Item = (usize, &mut f64)> {
        self.indices.iter().copied().zip(self.values.iter_mut())
    }

    /// The value at (`row`, `column`).
    pub fn get(&self, row: usize, column: usize) -> f64 {
        let (columns, values) = self.row(row);
        columns.binary_search(&column).map_or(0.0, |at| values[at])
    }

    /// The stored values of a dense matrix (scipy's `csr_matrix(X)`: every nonzero, NaN
    /// among them).
    pub fn from_dense(x: ArrayView2<'_, f64>) -> Self {
        let mut out = Self::with_capacity(x.ncols(), x.nrows(), 0);
        for row in x.rows() {
            for (j, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    out.push(j, v);
                }
            }
            out.end_row();
        }
        out
    }

    pub fn to_dense(&self) -> Array2<f64> {
        self.dense_rows(0..self.n_rows())
    }

    /// Rows `rows` as a dense matrix.
    pub fn dense_rows(&self, rows: Range<usize>) -> Array2<f64> {
        let mut out = Array2::zeros((rows.len(), self.n_cols));
        for (o, i) in rows.enumerate() {
            let (columns, values) = self.row(i);
            for (&j, &v) in columns.iter().zip(values) {
                out[[o, j]] = v;
            }
        }
        out
    }

    /// The rows in consecutive ranges, each small enough to be made dense (at most about a
    /// million values, and at least one row).
    pub fn dense_blocks(&self) -> impl Iterator<Item = Range<usize>> + use<> {
        let n = self.n_rows();
        let per_block = (DENSE_BLOCK_VALUES / self.n_cols.max(1)).max(1);
        (0..n)
            .step_by(per_block)
            .map(move |start| start..(start + per_block).min(n))
    }

    /// The columns at `columns`, in that order (`X[:, columns]`).
    pub fn select_columns(&self, columns: &[usize]) -> Self {
        // Where each old column goes: several places when it is selected more than once.
        let mut targets: Vec<Vec<usize>> = vec![Vec::new(); self.n_cols];
        for (new, &old) in columns.iter().enumerate() {
            targets[old].push(new);
        }
        let mut out = Self::with_capacity(columns.len(), self.n_rows(), self.nnz());
        let mut row: Vec<(usize, f64)> = Vec::new();
        for i in 0..self.n_rows() {
            row.clear();
            let (cols, values) = self.row(i);
            for (&j, &v) in cols.iter().zip(values) {
                row.extend(targets[j].iter().map(|&new| (new, v)));
            }
            row.sort_by_key(|(j, _)| *j);
            for &(j, v) in &row {
                out.push(j, v);
            }
            out.end_row();
        }
        out
    }

    /// Blocks side by side (`scipy.sparse.hstack`); every block has `n_rows` rows.
    pub fn hstack(parts: &[Csr], n_rows: usize) -> Self {
        let n_cols = parts.iter().map(Csr::n_cols).sum();
        let nnz = parts.iter().map(Csr::nnz).sum();
        let mut out = Self::with_capacity(n_cols, n_rows, nnz);
        for i in 0..n_rows {
            let mut offset = 0;
            for part in parts {
                let (columns, values) = part.row(i);
                for (&j, &v) in columns.iter().zip(values) {
                    out.push(offset + j, v);
                }
                offset += part.n_cols;
            }
            out.end_row();
        }
        out
    }

    /// Divides each row by its norm, as `sklearn.preprocessing.normalize` does a CSR matrix:
    /// the l1 and l2 sums in the stored order (products and sums in float64, the result
    /// rounded to `dtype`), rows of norm zero left alone.
    pub fn normalize_rows(&mut self, norm: Norm, dtype: Dtype) {
        for i in 0..self.n_rows() {
            let range = self.indptr[i]..self.indptr[i + 1];
            let values = &mut self.values[range];
            let by = match norm {
                Norm::L1 => values.iter().map(|v| v.abs()).sum::<f64>(),
                Norm::L2 => {
                    let sum: f64 = values.iter().map(|v| dtype.round(v * v)).sum();
                    if sum == 0.0 {
                        continue;
                    }
                    sum.sqrt()
                }
                Norm::Max => values.iter().fold(0.0f64, |m, v| m.max(v.abs())),
            };
            if by == 0.0 {
                continue;
            }
            values.iter_mut().for_each(|v| *v = dtype.round(*v / by));
        }
    }

    /// Multiplies each stored value by its column's factor (`X.data *= by[X.indices]`).
    pub fn scale_columns(&mut self, by: &[f64], dtype: Dtype) {
        for (j, v) in self.entries_mut() {
            *v = dtype.round(*v * by[j]);
        }
    }

    /// Row `i` times each of `weights`' rows (each `n_cols` long), into `out`: scipy's
    /// `csr @ dense` order, each sum from zero over the stored values in order.
    #[inline]
    pub fn row_dot(&self, i: usize, weights: &[f64], out: &mut [f64]) {
        let (columns, values) = self.row(i);
        for (o, w) in out.iter_mut().zip(weights.chunks_exact(self.n_cols)) {
            let mut sum = 0.0;
            for (&j, &v) in columns.iter().zip(values) {
                sum += v * w[j];
            }
            *o = sum;
        }
    }

    /// The first stored value that is not finite, as (row, column, value).
    pub fn first_not_finite(&self) -> Option<(usize, usize, f64)> {
        let at = self.values.iter().position(|v| !v.is_finite())?;
        let row = self.indptr.partition_point(|&p| p <= at) - 1;
        Some((row, self.indices[at], self.values[at]))
    }

    /// The rows `rows`, as a matrix of their own.
    pub fn slice_rows(&self, rows: Range<usize>) -> Self {
        let (start, end) = (self.indptr[rows.start], self.indptr[rows.end]);
        Self {
            n_cols: self.n_cols,
            indptr: self.indptr[rows.start..=rows.end]
                .iter()
                .map(|p| p - start)
                .collect(),
            indices: self.indices[start..end].to_vec(),
            values: self.values[start..end].to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn sample() -> Csr {
        Csr::from_dense(
            array![
                [0.0, 3.0, 0.0, 4.0],
                [0.0, 0.0, 0.0, 0.0],
                [-2.0, 0.0, 1.0, 0.0]
            ]
            .view(),
        )
    }

    #[test]
    fn dense_round_trip_and_lookup() {
        let m = sample();
        assert_eq!(m.nnz(), 4);
        assert_eq!(m.row(1), (&[][..], &[][..]));
        assert_eq!(m.get(0, 3), 4.0);
        assert_eq!(m.get(0, 2), 0.0);
        assert_eq!(Csr::from_dense(m.to_dense().view()), m);
        assert_eq!(m.dense_rows(2..3), array![[-2.0, 0.0, 1.0, 0.0]]);
    }

    #[test]
    fn parts_are_checked_sorted_and_summed() {
        let m = Csr::from_parts(3, vec![0, 3], vec![2, 0, 2], vec![1.0, 5.0, 2.0]).unwrap();
        assert_eq!(m.row(0), (&[0, 2][..], &[5.0, 3.0][..]));
        assert!(Csr::from_parts(3, vec![0, 1], vec![3], vec![1.0]).is_err());
        assert!(Csr::from_parts(3, vec![1, 1], vec![0], vec![1.0]).is_err());
        assert!(Csr::from_parts(3, vec![0, 2, 1], vec![0, 1], vec![1.0, 1.0]).is_err());
        assert!(Csr::from_parts(3, vec![0, 2], vec![0, 1], vec![1.0]).is_err());
    }

    #[test]
    fn norms_leave_empty_rows_alone() {
        let mut m = sample();
        m.normalize_rows(Norm::L2, Dtype::F64);
        assert_eq!(m.row(0).1, &[0.6, 0.8]);
        assert_eq!(m.row(1).1, &[] as &[f64]);
        let mut m = sample();
        m.normalize_rows(Norm::L1, Dtype::F64);
        assert_eq!(m.row(2).1, &[-2.0 / 3.0, 1.0 / 3.0]);
        let mut m = sample();
        m.normalize_rows(Norm::Max, Dtype::F64);
        assert_eq!(m.row(2).1, &[-1.0, 0.5]);
    }

    #[test]
    fn columns_select_repeat_and_stack() {
        let m = sample();
        let s = m.select_columns(&[3, 0, 3]);
        assert_eq!(
            s.to_dense(),
            array![[4.0, 0.0, 4.0], [0.0, 0.0, 0.0], [0.0, -2.0, 0.0]]
        );
        let h = Csr::hstack(&[m.clone(), s], 3);
        assert_eq!(h.n_cols(), 7);
        assert_eq!(h.row(0), (&[1, 3, 4, 6][..], &[3.0, 4.0, 4.0, 4.0][..]));
        assert_eq!(m.slice_rows(1..3).to_dense(), m.dense_rows(1..3));
    }

    #[test]
    fn products_follow_the_stored_order() {
        let m = sample();
        let mut out = [0.0; 2];
        m.row_dot(0, &[1.0, 2.0, 3.0, 4.0, 0.0, 1.0, 0.0, 1.0], &mut out);
        assert_eq!(out, [22.0, 7.0]);
    }

    #[test]
    fn blocks_cover_every_row_once() {
        let m = Csr::with_capacity(DENSE_BLOCK_VALUES, 0, 0);
        assert_eq!(m.dense_blocks().count(), 0);
        let mut m = Csr::with_capacity(DENSE_BLOCK_VALUES / 2, 5, 0);
        (0..5).for_each(|_| m.end_row());
        let blocks: Vec<_> = m.dense_blocks().collect();
        assert_eq!(blocks, [0..2, 2..4, 4..5]);
    }
}
