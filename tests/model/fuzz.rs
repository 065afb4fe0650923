//! Mutation fuzzing of the loader: truncated and bit-flipped copies of every fixture, then
//! random mutations (flips, splices, opcode insertions, extreme length fields, and size fields
//! set to what hurts: shapes, widths, lengths, counts, inside compressed streams too) for
//! `SKSERVE_FUZZ_CASES` inputs (default 300,000; `tests/run.sh fuzz` runs millions). Any
//! outcome but a panic or an abort is a pass: loaded, or refused with an error.
//!
//! Both run in a child process (this test binary again) in a 1 GiB address space, so that an
//! allocation without bound, which would abort, fails the test instead of exhausting the
//! machine.

use std::path::PathBuf;
use std::process::Command;

use skserve::model::{LoadError, Model, inspect};

use crate::helpers::repo;

#[path = "../common/mutate.rs"]
pub mod mutate;
use mutate::{Rng, mutate, mutate_size};

/// The address space the fuzzing child runs in.
const ADDRESS_SPACE: u64 = 1 << 30;

/// Set in the child that does the fuzzing.
const CHILD: &str = "SKSERVE_FUZZ_CHILD";

/// Runs `test` (this binary's test of that name) again in a child process within
/// [`ADDRESS_SPACE`], and fails if the child does; returns false in the child itself, which
/// then does the work.
fn in_limited_child(test: &str) -> bool {
    if std::env::var_os(CHILD).is_some() {
        return false;
    }
    let out = Command::new("prlimit")
        .arg(format!("--as={ADDRESS_SPACE}"))
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("prlimit (util-linux) runs the fuzzing child");
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stderr}");
    assert!(
        out.status.success(),
        "the fuzzing child of {test} failed ({:?}) in a {ADDRESS_SPACE}-byte address space: \
         replay with SKSERVE_FUZZ_SEED and SKSERVE_FUZZ_TRACE=1",
        out.status
    );
    true
}

/// The fixtures mutations start from: the challenge model and every checked-in model file,
/// among them the malformed trees and the intact forest and HistGradientBoosting model of
/// tests/fixtures/tree_seeds (so mutations reach the tree checks from both sides), the skops
/// archives of tests/fixtures/skops_seeds and the hostile archives made from them.
fn seeds() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = vec![repo().join("model-files/pickle_model.pkl")];
    let mut dirs = vec![repo().join("tests/fixtures")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("pkl" | "joblib" | "skops")
            ) && !path.to_string_lossy().contains("_bomb")
            {
                // The compression bombs cost their whole budget to refuse, every time: they
                // are the budget's tests (`budget.rs`), not seeds.
                files.push(path);
            }
        }
    }
    files.sort();
    let mut seeds: Vec<_> = files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    seeds.extend(
        crate::skops::hostile::archives()
            .into_iter()
            .filter(|h| h.limits.is_none() && h.bytes.len() < 1 << 20)
            .map(|h| {
                let name = format!("hostile skops archive {}", h.name);
                (PathBuf::from(name), h.bytes)
            }),
    );
    assert!(
        seeds.len() > 50,
        "expected the checked-in fixtures, found {} files",
        seeds.len()
    );
    seeds
}

#[test]
fn the_tree_seeds_load_so_their_mutations_reach_the_tree_checks() {
    let seeds = seeds();
    let trees: Vec<_> = seeds
        .iter()
        .filter(|(path, _)| path.parent().is_some_and(|d| d.ends_with("tree_seeds")))
        .collect();
    assert_eq!(
        trees.len(),
        4,
        "the intact forest and HistGradientBoosting seeds"
    );
    for (path, bytes) in trees {
        if let Err(e) = Model::from_bytes(bytes) {
            panic!("{} is refused: {e}", path.display());
        }
    }
    let malformed = seeds
        .iter()
        .filter(|(path, _)| {
            path.parent()
                .is_some_and(|d| d.ends_with("malformed_trees"))
        })
        .count();
    assert_eq!(malformed, 54, "the malformed tree fixtures are seeds too");
}

/// The sweep of truncations and bit flips is this many tests, each over every `SHARDS`-th
/// seed, so that the harness runs them side by side: as one test it was the suite's longest
/// by far (nine minutes of one core on a 2-core machine, the other core idle once the rest
/// of its binary had finished).
const SHARDS: usize = 4;

/// Every truncation and bit flip of the seeds of shard `shard` (of [`SHARDS`]), in a child of
/// its own (`test` is the calling test's name).
fn truncations_and_bit_flips(test: &str, shard: usize) {
    if in_limited_child(test) {
        return;
    }
    let mut inputs = 0usize;
    for (path, bytes) in seeds().into_iter().skip(shard).step_by(SHARDS) {
        for len in cut_points(bytes.len()) {
            // A truncated file must never load: its STOP is gone.
            assert!(
                Model::from_bytes(&bytes[..len]).is_err(),
                "{} truncated to {len} loaded",
                path.display()
            );
            inputs += 1;
        }
        let mut copy = bytes.clone();
        for i in cut_points(copy.len()) {
            let bit = 1u8 << (i % 8);
            copy[i] ^= bit;
            let _ = Model::from_bytes(&copy);
            copy[i] ^= bit;
            inputs += 1;
        }
    }
    eprintln!("truncations and bit flips of shard {shard}: {inputs} inputs, no panic");
}

/// The tests of the shards, each named once: the child runs the test of that name.
macro_rules! truncation_shards {
    ($($name:ident: $shard:expr),*) => {$(
        #[test]
        fn $name() {
            truncations_and_bit_flips(concat!("fuzz::", stringify!($name)), $shard);
        }
    )*};
}

truncation_shards!(
    every_truncation_and_bit_flip_of_every_fixture_is_handled_shard_0: 0,
    every_truncation_and_bit_flip_of_every_fixture_is_handled_shard_1: 1,
    every_truncation_and_bit_flip_of_every_fixture_is_handled_shard_2: 2,
    every_truncation_and_bit_flip_of_every_fixture_is_handled_shard_3: 3
);

/// Every position of a small file; for a large one the first and last 1,024 and 2,048 spread
/// between (each load is linear in the file, so every position of a large file is quadratic).
fn cut_points(len: usize) -> Vec<usize> {
    if len <= 4096 {
        return (0..len).collect();
    }
    let step = (len - 2048) / 2048;
    (0..1024)
        .chain((1024..len - 1024).step_by(step.max(1)))
        .chain(len - 1024..len)
        .collect()
}

/// `SKSERVE_FUZZ_CASES` (default 300,000) and `SKSERVE_FUZZ_SEED`.
pub fn cases_and_seed() -> (usize, u64) {
    let cases = std::env::var("SKSERVE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    let seed = std::env::var("SKSERVE_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_cafe);
    (cases, seed)
}

#[test]
fn random_mutations_never_panic() {
    if in_limited_child("fuzz::random_mutations_never_panic") {
        return;
    }
    let (cases, seed) = cases_and_seed();
    let trace = std::env::var_os("SKSERVE_FUZZ_TRACE").is_some();
    eprintln!("fuzzing the loader: {cases} inputs, SKSERVE_FUZZ_SEED={seed}");
    let seeds = seeds();
    let files: Vec<&[u8]> = seeds.iter().map(|(_, bytes)| bytes.as_slice()).collect();
    let mut rng = Rng(seed | 1);
    let (mut loaded, mut refused, mut too_large) = (0usize, 0usize, 0usize);
    let mut input = Vec::new();
    for case in 0..cases {
        input.clear();
        input.extend_from_slice(files[rng.below(files.len())]);
        if case % 4 == 0 {
            // Every fourth input has a size field set to hurt before the other mutations.
            mutate_size(&mut rng, &mut input);
        }
        mutate(&mut rng, &files, &mut input);
        if trace {
            eprintln!("case {case}: {} bytes", input.len());
        }
        match Model::from_bytes(&input) {
            Ok(_) => loaded += 1,
            Err(LoadError::TooLarge(_)) => (refused, too_large) = (refused + 1, too_large + 1),
            Err(_) => refused += 1,
        }
        // The audit path walks refused files further than the loader: fuzz it too, less often.
        if case % 16 == 0 {
            let _ = inspect(&input, "fuzz.pkl");
        }
    }
    eprintln!(
        "fuzzed {cases} inputs without a panic or an abort: {loaded} still loaded, {refused} \
         refused ({too_large} of them too large for the loading budget)"
    );
    assert_eq!(loaded + refused, cases);
}
