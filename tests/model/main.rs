//! The model test binary: the safe loader checked against real scikit-learn output, hostile
//! files, the loading budget, the command line, and a mutation fuzzer.

mod budget;
mod census;
mod cli;
mod differential;
mod docs;
mod estimators;
mod fuzz;
mod helpers;
mod hostile;
mod pipelines;
mod trees;
