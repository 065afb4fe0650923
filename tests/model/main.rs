//! The model test binary: the safe loader checked against real scikit-learn output, hostile
//! files, the command line, and a mutation fuzzer.

mod cli;
mod differential;
mod families;
mod fuzz;
mod helpers;
mod hostile;
mod pairwise;
mod pipelines;
mod trees;
