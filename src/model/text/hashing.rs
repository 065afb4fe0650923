//! The hashing trick as scikit-learn's `_hashing_fast.transform` does it, for
//! HashingVectorizer and FeatureHasher: each feature's UTF-8 bytes through MurmurHash3
//! (x86, 32 bits, seed 0) read as a signed 32-bit integer `h`; its column `|h| mod
//! n_features` (for `h = -2³¹`, `(2³¹ - 1 - (n_features - 1)) mod n_features`, as 1.2 and
//! later define it); its value negated when `h < 0` under `alternate_sign`; repeated columns
//! summed, zeros kept (`sum_duplicates`).
//!
//! MurmurHash3 is written out here: twenty lines, checked against scikit-learn's
//! `murmurhash3_32` on the test vectors below.

use crate::model::sparse::Csr;

/// MurmurHash3_x86_32 of `key`, as `sklearn.utils.murmurhash3_32(key, seed)` gives it.
pub fn murmurhash3_32(key: &[u8], seed: u32) -> i32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h = seed;
    let blocks = key.chunks_exact(4);
    let tail = blocks.remainder();
    for block in blocks {
        let k = u32::from_le_bytes(block.try_into().expect("four bytes"));
        h ^= k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    if !tail.is_empty() {
        let k = tail
            .iter()
            .rev()
            .fold(0u32, |k, &byte| (k << 8) | u32::from(byte));
        h ^= k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    }
    h ^= key.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h as i32
}

/// Where features hash to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hasher {
    pub n_features: usize,
    pub alternate_sign: bool,
}

impl Hasher {
    /// The column and the sign of feature `name`.
    #[inline]
    pub fn place(&self, name: &str) -> (usize, f64) {
        let h = murmurhash3_32(name.as_bytes(), 0);
        let n = self.n_features as i64;
        let column = if h == i32::MIN {
            (i64::from(i32::MAX) - (n - 1)).rem_euclid(n)
        } else {
            i64::from(h).abs() % n
        };
        let sign = if self.alternate_sign && h < 0 {
            -1.0
        } else {
            1.0
        };
        (column as usize, sign)
    }

    /// Appends one row of `(feature, value)` pairs to `out`, repeated columns summed.
    pub fn push_row<'f>(
        &self,
        features: impl IntoIterator<Item = (&'f str, f64)>,
        scratch: &mut Vec<(usize, f64)>,
        out: &mut Csr,
    ) {
        scratch.clear();
        for (name, value) in features {
            if value == 0.0 {
                continue;
            }
            let (column, sign) = self.place(name);
            scratch.push((column, value * sign));
        }
        Self::sum_row(scratch, out);
    }

    /// Appends the row of `(column, value)` pairs in `scratch` to `out`, repeated columns
    /// summed.
    pub fn sum_row(scratch: &mut [(usize, f64)], out: &mut Csr) {
        // A stable sort: the values of one column are summed in the order they came.
        scratch.sort_by_key(|(column, _)| *column);
        let mut i = 0;
        while i < scratch.len() {
            let (column, mut sum) = scratch[i];
            i += 1;
            while i < scratch.len() && scratch[i].0 == column {
                sum += scratch[i].1;
                i += 1;
            }
            out.push(column, sum);
        }
        out.end_row();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmurhash_agrees_with_scikit_learn() {
        let cases: [(&str, i32); 7] = [
            ("foo", -156_908_512),
            ("", 0),
            ("a", 1_009_084_850),
            ("ab", -1_681_926_305),
            ("abc", -1_277_324_294),
            ("abcd", 1_139_631_978),
            ("héllo wörld 🙂", -1_463_569_382),
        ];
        for (key, expected) in cases {
            assert_eq!(murmurhash3_32(key.as_bytes(), 0), expected, "{key:?}");
        }
        assert_eq!(murmurhash3_32(b"foo", 42), -1_322_301_282);
    }

    #[test]
    fn columns_signs_and_sums() {
        let hasher = Hasher {
            n_features: 16,
            alternate_sign: true,
        };
        // "foo" hashes negative: column |h| mod 16, sign -1.
        assert_eq!(hasher.place("foo"), ((156_908_512 % 16) as usize, -1.0));
        let mut out = Csr::with_capacity(16, 1, 4);
        let mut scratch = Vec::new();
        hasher.push_row(
            [("foo", 1.0), ("a", 2.0), ("foo", 1.0), ("b", 0.0)],
            &mut scratch,
            &mut out,
        );
        assert_eq!(out.get(0, 0), -2.0);
        assert_eq!(out.nnz(), 2);
    }
}
