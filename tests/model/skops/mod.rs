//! skops archives: checked-in seeds loaded and audited, hostile archives refused, mutations
//! inside archives fuzzed (quick tier); the matrix of real archives written by skops 0.6, 0.10
//! and the newest skops answering exactly as their pickles and scikit-learn do (full tier).

mod attributes;
mod budget;
mod fuzz;
pub mod hostile;
mod matrix;
pub mod seeds;
mod surgery;
