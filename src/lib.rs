//! skserve: scikit-learn models behind an HTTP endpoint, loaded without executing them.
//!
//! # Layout
//! - [`model`]: the only place that knows pickles and scikit-learn (safe loader, prediction).
//! - [`cli`]: the command line (clap), every flag with its environment variable.
//! - [`commands`]: what each subcommand does, callable from tests.

pub mod cli;
pub mod commands;
pub mod model;
