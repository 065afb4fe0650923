//! Mutation fuzzing of the loader: truncated and bit-flipped copies of every fixture, then
//! random mutations (flips, splices, opcode insertions, extreme length fields) for
//! `SKSERVE_FUZZ_CASES` inputs (default 300,000; `tests/run.sh fuzz` runs millions). Any
//! outcome but a panic is a pass: loaded, or refused with an error.

use std::path::PathBuf;

use skserve::model::{Model, inspect};

use crate::helpers::repo;

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
            ) {
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
                (
                    PathBuf::from(format!("hostile skops archive {}", h.name)),
                    h.bytes,
                )
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

#[test]
fn every_truncation_and_bit_flip_of_every_fixture_is_handled() {
    let mut inputs = 0usize;
    for (path, bytes) in seeds() {
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
    eprintln!("truncations and bit flips: {inputs} inputs, no panic");
}

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

/// xorshift64*: deterministic and fast; the seed is printed so a failure can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Opcodes worth inserting: every one the VM knows, plus the refused ones.
const OPCODES: &[u8] = b"\x80\x95.(N\x88\x89JKM\x8a\x8bG\x8cXUTCB\x8e\x96)t\x85\x86\x87}dsu]lae\x8f\x90\x91012\x94qrhjc\x93R\x81bio\x92\x82\x83\x84PQ\x97\x98";

pub fn mutate(rng: &mut Rng, seeds: &[(PathBuf, Vec<u8>)], input: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let len = input.len().max(1);
        match rng.below(7) {
            0 => {
                let i = rng.below(len);
                if let Some(b) = input.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
            1 => {
                let i = rng.below(len);
                if let Some(b) = input.get_mut(i) {
                    *b = rng.next() as u8;
                }
            }
            2 => {
                let op = OPCODES[rng.below(OPCODES.len())];
                input.insert(rng.below(input.len() + 1), op);
            }
            3 => {
                let start = rng.below(len);
                let end = (start + rng.below(64)).min(input.len());
                if start < end {
                    input.drain(start..end);
                }
            }
            4 => {
                // Splice a piece of another fixture in.
                let other = &seeds[rng.below(seeds.len())].1;
                let start = rng.below(other.len());
                let end = (start + rng.below(256)).min(other.len());
                let at = rng.below(input.len() + 1);
                input.splice(at..at, other[start..end].iter().copied());
            }
            5 => {
                // An extreme length or count field.
                let at = rng.below(input.len() + 1);
                let value: [u8; 8] = match rng.below(3) {
                    0 => u64::MAX.to_le_bytes(),
                    1 => (u32::MAX as u64).to_le_bytes(),
                    _ => (1u64 << 31).to_le_bytes(),
                };
                input.splice(at..at, value[..1 + rng.below(8)].iter().copied());
            }
            _ => {
                let start = rng.below(len);
                let end = (start + rng.below(32)).min(input.len());
                let chunk = input[start..end].to_vec();
                input.splice(end..end, chunk);
            }
        }
    }
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
    let (cases, seed) = cases_and_seed();
    eprintln!("fuzzing the loader: {cases} inputs, SKSERVE_FUZZ_SEED={seed}");
    let seeds = seeds();
    let mut rng = Rng(seed | 1);
    let (mut loaded, mut refused) = (0usize, 0usize);
    let mut input = Vec::new();
    for case in 0..cases {
        input.clear();
        input.extend_from_slice(&seeds[rng.below(seeds.len())].1);
        mutate(&mut rng, &seeds, &mut input);
        match Model::from_bytes(&input) {
            Ok(_) => loaded += 1,
            Err(_) => refused += 1,
        }
        // The audit path walks refused files further than the loader: fuzz it too, less often.
        if case % 16 == 0 {
            let _ = inspect(&input, "fuzz.pkl");
        }
    }
    eprintln!("fuzzed {cases} inputs without a panic: {loaded} still loaded, {refused} refused");
    assert_eq!(loaded + refused, cases);
}
