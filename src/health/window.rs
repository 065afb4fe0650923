//! A reference window: without a profile, the first rows a model version serves become its
//! reference. Each row claims a slot and writes its values there without a lock; once every
//! slot is written the ticker reads the values, makes the reference's bins
//! (`super::reference`) and drops the buffer.
//!
//! Memory: rows × (columns + 1) × 8 bytes, at most [`MAX_VALUES`] values (32 MiB): a model with
//! many columns gets fewer rows.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The most values a window holds.
pub const MAX_VALUES: usize = 4 << 20;

/// Values of the first `rows` rows, column by column; a string column holds its bin, the last
/// column the prediction (a class index or a value).
#[derive(Debug)]
pub struct Window {
    rows: usize,
    columns: usize,
    values: Box<[AtomicU64]>,
    claimed: AtomicUsize,
    written: AtomicUsize,
}

impl Window {
    /// A window of `rows` rows of `columns` values, fewer rows when that would hold more than
    /// [`MAX_VALUES`] values.
    pub fn new(rows: usize, columns: usize) -> Self {
        let rows = rows.min(MAX_VALUES / columns.max(1)).max(1);
        let nan = f64::NAN.to_bits();
        Self {
            rows,
            columns,
            values: (0..rows * columns).map(|_| AtomicU64::new(nan)).collect(),
            claimed: AtomicUsize::new(0),
            written: AtomicUsize::new(0),
        }
    }

    /// The rows it holds when full.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Slots for `n` rows, fewer (or none) once the window is full.
    #[inline]
    pub fn claim(&self, n: usize) -> Range<usize> {
        if self.claimed.load(Ordering::Relaxed) >= self.rows {
            return 0..0;
        }
        let start = self.claimed.fetch_add(n, Ordering::Relaxed);
        start.min(self.rows)..(start + n).min(self.rows)
    }

    #[inline]
    pub fn store(&self, slot: usize, column: usize, value: f64) {
        self.values[column * self.rows + slot].store(value.to_bits(), Ordering::Relaxed);
    }

    /// Says `n` claimed slots were written.
    pub fn written(&self, n: usize) {
        if n > 0 {
            self.written.fetch_add(n, Ordering::Release);
        }
    }

    /// Rows written so far.
    pub fn filled(&self) -> usize {
        self.written.load(Ordering::Acquire).min(self.rows)
    }

    /// Every slot is written.
    pub fn full(&self) -> bool {
        self.filled() >= self.rows
    }

    /// One column's values, once full.
    pub fn column(&self, column: usize) -> Vec<f64> {
        self.values[column * self.rows..(column + 1) * self.rows]
            .iter()
            .map(|v| f64::from_bits(v.load(Ordering::Relaxed)))
            .collect()
    }

    /// Bytes held by the buffer.
    pub fn bytes(&self) -> usize {
        self.values.len() * std::mem::size_of::<AtomicU64>()
    }

    /// The columns of a row (the input's, then the prediction).
    pub fn width(&self) -> usize {
        self.columns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_claim_slots_until_the_window_is_full() {
        let window = Window::new(5, 2);
        assert_eq!(window.claim(3), 0..3);
        assert_eq!(window.claim(3), 3..5);
        assert!(window.claim(1).is_empty());
        for slot in 0..5 {
            window.store(slot, 1, slot as f64);
        }
        window.written(3);
        assert!(!window.full());
        window.written(2);
        assert!(window.full());
        assert_eq!(window.column(1), [0.0, 1.0, 2.0, 3.0, 4.0]);
        assert!(window.column(0).iter().all(|v| v.is_nan()));
        assert_eq!(Window::new(10, MAX_VALUES).rows(), 1);
    }
}
