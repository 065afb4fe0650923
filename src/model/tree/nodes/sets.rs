//! Categorical splits as XGBoost and LightGBM keep them: a set of categories of any size (one
//! bit per category, 32 to a word, the lowest bit first), and the rule each library reads a
//! value against it by. HistGradientBoosting's bitsets of 256 categories stay in the parent
//! module, whose rule differs again.
//!
//! - LightGBM (`Tree::CategoricalDecision`): a missing value goes right; otherwise the value is
//!   truncated to an `int`, a negative one goes right, and a category of the set goes left,
//!   any other right.
//! - XGBoost (`common::Decision`, reached only for a value that is not missing): a value below
//!   0 or from 2^24 on goes left, a category of the set (the value truncated) goes right, any
//!   other left.
//!
//! What must not live here: reading a file's sets (each library's module checks them), the
//! walk.

/// Categories a set may reach: XGBoost's categories are below 2^24, LightGBM's are `int`s but
/// a model with more than a few million is not one a person trained.
pub const MAX_CATEGORY: u32 = 1 << 24;

/// How a library reads a value against a set of categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetRule {
    Lightgbm,
    Xgboost,
}

/// One split's set: `len` words from `start` in [`CategorySets::words`].
#[derive(Clone, Copy, Debug, PartialEq)]
struct Set {
    start: u32,
    len: u32,
    rule: SetRule,
}

/// The sets of every categorical split of a forest, in one arena of words.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CategorySets {
    sets: Vec<Set>,
    words: Vec<u32>,
}

impl CategorySets {
    /// Adds the set of `categories` (each below [`MAX_CATEGORY`]), read by `rule`; returns its
    /// index for [`super::Split::CategorySet`].
    pub fn push(&mut self, categories: &[u32], rule: SetRule) -> usize {
        let most = categories
            .iter()
            .copied()
            .max()
            .map_or(0, |c| c as usize + 1);
        let len = most.div_ceil(32);
        let start = self.words.len();
        self.words.resize(start + len, 0);
        for &c in categories {
            self.words[start + (c as usize >> 5)] |= 1 << (c & 31);
        }
        self.sets.push(Set {
            start: start as u32,
            len: len as u32,
            rule,
        });
        self.sets.len() - 1
    }

    /// Adds a set given as the library's own words (LightGBM's `cat_threshold`).
    pub fn push_words(&mut self, words: &[u32], rule: SetRule) -> usize {
        let start = self.words.len();
        self.words.extend_from_slice(words);
        self.sets.push(Set {
            start: start as u32,
            len: words.len() as u32,
            rule,
        });
        self.sets.len() - 1
    }

    pub fn len(&self) -> usize {
        self.sets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// The words every set takes together.
    pub fn word_count(&self) -> usize {
        self.words.len()
    }

    /// The categories of set `i`, for `inspect`.
    pub fn categories(&self, i: usize) -> Vec<u32> {
        let set = self.sets[i];
        let words = &self.words[set.start as usize..(set.start + set.len) as usize];
        (0..words.len() as u32 * 32)
            .filter(|&c| words[c as usize >> 5] >> (c & 31) & 1 == 1)
            .collect()
    }

    fn contains(&self, set: &Set, category: u32) -> bool {
        let word = (category >> 5) as usize;
        word < set.len as usize && self.words[set.start as usize + word] >> (category & 31) & 1 == 1
    }

    /// Whether split `i` sends `x` left; `missing_left` is where the split sends a missing
    /// value (XGBoost's default child; LightGBM sends it right whatever the node says).
    #[inline]
    pub fn goes_left(&self, i: usize, x: f64, missing_left: bool) -> bool {
        let set = &self.sets[i];
        match set.rule {
            SetRule::Lightgbm => {
                // `static_cast<int>(fval)`: from 2^31 on, x86-64 gives INT_MIN, negative.
                if x.is_nan() || x <= -1.0 || x >= 2_147_483_648.0 {
                    return false;
                }
                let category = x as i64;
                if category < 0 {
                    return false;
                }
                u32::try_from(category).is_ok_and(|c| self.contains(set, c))
            }
            SetRule::Xgboost => {
                if x.is_nan() {
                    return missing_left;
                }
                if !(0.0..f64::from(MAX_CATEGORY)).contains(&x) {
                    return true;
                }
                !self.contains(set, x as u32)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lightgbm_sends_its_categories_left_and_the_rest_right() {
        let mut sets = CategorySets::default();
        let i = sets.push(&[0, 3, 40], SetRule::Lightgbm);
        let left = |x: f64| sets.goes_left(i, x, true);
        assert!(left(0.0) && left(3.0) && left(3.9) && left(40.0));
        assert!(left(-0.5), "truncated to 0");
        assert!(!left(1.0) && !left(41.0) && !left(1000.0) && !left(-1.0));
        assert!(!left(f64::NAN), "missing goes right whatever the node says");
        assert!(!left(3e9), "beyond int: negative");
        assert_eq!(sets.categories(i), vec![0, 3, 40]);
    }

    #[test]
    fn xgboost_sends_its_categories_right_and_the_rest_left() {
        let mut sets = CategorySets::default();
        let i = sets.push(&[1, 2], SetRule::Xgboost);
        assert!(!sets.goes_left(i, 1.0, true) && !sets.goes_left(i, 2.5, true));
        assert!(sets.goes_left(i, 0.0, false) && sets.goes_left(i, 33.0, false));
        assert!(sets.goes_left(i, -0.5, false), "negative: invalid, left");
        assert!(
            sets.goes_left(i, 16_777_216.0, false),
            "2^24: invalid, left"
        );
        assert!(sets.goes_left(i, f64::NAN, true) && !sets.goes_left(i, f64::NAN, false));
    }
}
