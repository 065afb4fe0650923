//! The model test binary: the safe loader checked against real scikit-learn output, hostile
//! files, the loading budget, the command line, and a mutation fuzzer.

mod budget;
mod census;
mod cli;
mod differential;
mod docs;
mod estimators;
mod families;
mod fuzz;
mod gbm;
mod gbm_budget;
mod gbm_hostile;
mod helpers;
mod hostile;
mod manifold;
mod meta;
mod pairwise;
mod pipelines;
mod skops;
mod transformers;
mod trees;
