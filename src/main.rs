//! The `skserve` binary: parse the command line and dispatch; everything else is in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match skserve::cli::Cli::try_parse() {
        Ok(cli) => skserve::commands::run(cli),
        // `--help` and `--version` print and succeed; a flag clap refuses is a bad command line,
        // exit 1 as for every other mistake (2 is kept for a refused model).
        Err(refusal) => {
            let _ = refusal.print();
            if refusal.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}
