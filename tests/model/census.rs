//! The census of scikit-learn 1.9 (`tests/python/census/`): every class `all_estimators()`
//! lists that predicts or transforms new rows, fitted small, loaded through skserve and
//! compared output by output as the estimator matrix compares them. The support matrix it
//! makes, with the line `served exactly: N of M`, is the one in docs/models.md: this test
//! fails when the docs fall behind it, and `SKSERVE_BLESS=1 cargo test --test model census::
//! -- --include-ignored` writes it anew.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::docs::generated_block;
use crate::estimators::{Case, check_case};
use crate::helpers::{census_dir, read_json};

#[derive(Debug, Deserialize)]
struct Census {
    sklearn_version: String,
    classes: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    class: String,
    module: String,
    /// Why the class is not counted: it has nothing for new rows, or its input is not rows.
    apart: Option<String>,
    /// Why scikit-learn could not fit or answer it here (counted, not served).
    unfitted: Option<String>,
    file: Option<String>,
    input: Option<String>,
    expected: Option<String>,
}

/// Classes whose `transform` is an optimisation run for each new row (or that hold a fitted
/// state only for the rows they were fitted on): served by nobody safely and exactly.
const OPTIMISATIONS: &[(&str, &str)] = &[
    (
        "NMF",
        "transform solves a non-negative least squares problem per request",
    ),
    (
        "MiniBatchNMF",
        "transform solves a non-negative least squares problem per request",
    ),
    (
        "LatentDirichletAllocation",
        "transform runs variational inference per request",
    ),
    (
        "DictionaryLearning",
        "transform runs a sparse coding solver per request",
    ),
    (
        "MiniBatchDictionaryLearning",
        "transform runs a sparse coding solver per request",
    ),
    (
        "SparseCoder",
        "transform runs a sparse coding solver per request",
    ),
];

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn the_census_of_scikit_learn_is_the_docs_support_matrix() {
    let dir = census_dir();
    let census: Census = read_json(&dir.join("manifest.json"));
    let mut rows = Vec::new();
    let mut apart = Vec::new();
    let mut served = 0;
    for entry in &census.classes {
        if let Some(why) = &entry.apart {
            apart.push(format!("| `{}` | {} |", entry.class, why));
            continue;
        }
        let status = match verdict(&dir, entry) {
            Ok(()) => {
                served += 1;
                let withheld: Vec<String> = skserve::model::WITHHELD
                    .iter()
                    .filter(|(class, _, _)| *class == entry.class)
                    .map(|(_, method, _)| format!("`{method}` refused: it draws at random"))
                    .collect();
                if withheld.is_empty() {
                    "served exactly".to_owned()
                } else {
                    format!("served exactly; {}", withheld.join("; "))
                }
            }
            Err(why) => why,
        };
        rows.push((entry.module.clone(), entry.class.clone(), status));
    }
    let counted = rows.len();
    assert!(
        counted >= 150,
        "only {counted} classes in {}",
        dir.display()
    );
    let mut by_module: BTreeMap<&str, Vec<&(String, String, String)>> = BTreeMap::new();
    for row in &rows {
        by_module.entry(&row.0).or_default().push(row);
    }
    let mut block = format!(
        "served exactly: {served} of {counted}\n\n\
         Census of scikit-learn {}: every class of `all_estimators()` that predicts or \
         transforms new rows, fitted small and compared output by output.\n\n\
         | module | class | skserve |\n|---|---|---|\n",
        census.sklearn_version
    );
    for (module, entries) in &by_module {
        for (_, class, status) in entries {
            block.push_str(&format!("| {module} | `{class}` | {status} |\n"));
        }
    }
    block.push_str(
        "\nNot counted: classes with nothing to serve for new rows, or whose input is not \
         rows of numbers.\n\n| class | why |\n|---|---|\n",
    );
    for line in &apart {
        block.push_str(line);
        block.push('\n');
    }
    generated_block("docs/models.md", "census", &block);
}

/// `Ok` when skserve serves the class exactly; otherwise why not, in a table cell.
fn verdict(dir: &Path, entry: &Entry) -> Result<(), String> {
    if let Some((_, why)) = OPTIMISATIONS.iter().find(|(c, _)| *c == entry.class) {
        return Err(format!("not served: {why}"));
    }
    if let Some(why) = &entry.unfitted {
        return Err(cell(&format!("not checked: scikit-learn failed ({why})")));
    }
    let (Some(file), Some(input), Some(expected)) = (&entry.file, &entry.input, &entry.expected)
    else {
        return Err("not checked: no file".to_owned());
    };
    let case = Case {
        file: file.clone(),
        format: "pickle-p5".to_owned(),
        estimator: entry.class.clone(),
        input: input.clone(),
        expected: expected.clone(),
    };
    check_case(dir, &case).map_err(|why| {
        if why.contains("which is not an allowed class") {
            return "not served: not an allowed class".to_owned();
        }
        let why = why
            .strip_prefix(&format!("cannot load {file}: "))
            .map(|w| format!("refused: {w}"))
            // Where the first difference is, not the two values: their last digits move with
            // the BLAS a model was fitted with, and the table is checked word for word.
            .unwrap_or_else(|| {
                let at = why.split_once(": ").map_or(why.as_str(), |(at, _)| at);
                format!("differs: {at}")
            });
        cell(&why)
    })
}

/// One table cell: its first line, no pipe, at most 140 characters.
fn cell(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").replace('|', "/");
    match line.char_indices().nth(140) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}
