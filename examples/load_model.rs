//! Loads a model file over and over and prints what one load takes: the mean time of a load
//! and the process's peak resident memory (VmHWM), for the loading figures of the README.
//!
//! ```console
//! cargo run --release --example load_model -- model-files/pickle_model.pkl 2000
//! ```
//!
//! Prints one line: the file, its size, the mean time of a load over the runs (after one load
//! to warm up), and the peak resident memory of the process.

use std::hint::black_box;
use std::time::Instant;

use skserve::model::Model;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: load_model FILE [RUNS]");
    let runs: u32 = args
        .next()
        .map_or(100, |r| r.parse().expect("RUNS is a number"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let load = || Model::from_bytes(black_box(&bytes)).unwrap_or_else(|e| panic!("{e}"));
    drop(load());
    let start = Instant::now();
    for _ in 0..runs {
        drop(black_box(load()));
    }
    let mean = start.elapsed() / runs.max(1);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map_or("?".to_owned(), |v| v.trim().to_owned());
    println!(
        "{path}: {} bytes, {mean:?} a load (mean of {runs}), peak resident {peak}",
        bytes.len()
    );
}
