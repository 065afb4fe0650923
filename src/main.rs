//! The `skserve` binary: parse the command line and dispatch; everything else is in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = skserve::cli::Cli::parse();
    skserve::commands::run(cli)
}
