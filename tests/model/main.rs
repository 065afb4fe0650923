//! The model test binary: the safe loader checked against real scikit-learn output, hostile
//! files, the command line, and a mutation fuzzer.

mod cli;
mod differential;
mod fuzz;
mod helpers;
mod hostile;
mod meta;
mod pipelines;
mod trees;
