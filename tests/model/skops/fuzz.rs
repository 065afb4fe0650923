//! Mutation fuzzing inside skops archives. A byte flipped in a zip is caught by the member's
//! CRC before any parser sees it, so these mutations are made to the members themselves and
//! the archive is written again: `schema.json` and `.npy` bytes mutated as the loader fuzzer
//! mutates files, and whole states swapped for states of other archives, so that every loader
//! meets every kind of content. `SKSERVE_FUZZ_CASES / 60` archives (5,000 by default). Any
//! outcome but a panic is a pass.

use serde_json::Value;
use skserve::model::{Model, inspect};

use super::seeds::seeds;
use super::surgery::Members;
use crate::fuzz::cases_and_seed;
use crate::fuzz::mutate::{Rng, mutate};

/// Every state of a schema, cloned.
fn states(schema: &Value, out: &mut Vec<Value>) {
    if schema.get("__loader__").is_some() {
        out.push(schema.clone());
    }
    match schema {
        Value::Object(fields) => fields.values().for_each(|v| states(v, out)),
        Value::Array(items) => items.iter().for_each(|v| states(v, out)),
        _ => {}
    }
}

#[test]
fn mutated_members_and_swapped_states_never_panic() {
    let (cases, seed) = cases_and_seed();
    let cases = cases / 60;
    let archives: Vec<Members> = seeds()
        .iter()
        .map(|(path, _)| Members::of(&std::fs::read(path).unwrap()))
        .collect();
    let mut pool = Vec::new();
    for members in &archives {
        states(&members.schema(), &mut pool);
    }
    let corpus: Vec<&[u8]> = archives
        .iter()
        .flat_map(|m| m.0.iter().map(|(_, b)| b.as_slice()))
        .collect();
    let mut rng = Rng(seed | 1);
    let (mut loaded, mut refused) = (0usize, 0usize);
    for case in 0..cases {
        let mut members = archives[rng.below(archives.len())].clone();
        match rng.below(3) {
            0 => {
                let mut schema = members.get("schema.json").to_vec();
                mutate(&mut rng, &corpus, &mut schema);
                members.set("schema.json", schema);
            }
            1 => {
                let arrays = members.arrays();
                let name = &arrays[rng.below(arrays.len())];
                let mut npy = members.get(name).to_vec();
                mutate(&mut rng, &corpus, &mut npy);
                members.set(name, npy);
            }
            _ => {
                let mut schema = members.schema();
                let mut all = Vec::new();
                states(&schema, &mut all);
                let mut nth = rng.below(all.len());
                replace_nth(&mut schema, &mut nth, &pool[rng.below(pool.len())]);
                members.set_schema(&schema);
            }
        }
        let bytes = members.stored();
        match Model::from_bytes(&bytes) {
            Ok(_) => loaded += 1,
            Err(_) => refused += 1,
        }
        if case % 8 == 0 {
            let _ = inspect(&bytes, "fuzz.skops");
        }
    }
    eprintln!(
        "fuzzed {cases} skops archives without a panic: {loaded} still loaded, {refused} refused"
    );
}

/// Replaces the `nth` state of `value`, in document order, with `with`.
fn replace_nth(value: &mut Value, nth: &mut usize, with: &Value) -> bool {
    if value.get("__loader__").is_some() {
        if *nth == 0 {
            *value = with.clone();
            return true;
        }
        *nth -= 1;
    }
    match value {
        Value::Object(fields) => fields.values_mut().any(|v| replace_nth(v, nth, with)),
        Value::Array(items) => items.iter_mut().any(|v| replace_nth(v, nth, with)),
        _ => false,
    }
}
