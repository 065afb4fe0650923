//! The docs' list of what is served is the catalog's own (`skserve::model::catalog`): the
//! support matrix in docs/models.md and the summary in the README are generated from it, and
//! this test fails when they fall behind. `SKSERVE_BLESS=1 cargo test --test model docs::`
//! writes them anew.

use std::path::Path;

use skserve::model::catalog;

/// The text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in `file`, replaced by
/// `generated` when blessing; otherwise checked against it.
pub(crate) fn generated_block(file: &str, name: &str, generated: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = (
        format!("<!-- {name}:begin -->\n"),
        format!("<!-- {name}:end -->"),
    );
    let start = text
        .find(&begin)
        .unwrap_or_else(|| panic!("{file} has no {begin:?}"))
        + begin.len();
    let stop = start
        + text[start..]
            .find(&end)
            .unwrap_or_else(|| panic!("{file} has no {end:?}"));
    if std::env::var_os("SKSERVE_BLESS").is_some() {
        let blessed = format!("{}{generated}{}", &text[..start], &text[stop..]);
        std::fs::write(&path, blessed).unwrap();
        return;
    }
    assert_eq!(
        &text[start..stop],
        generated,
        "{file}'s {name} block is not the catalog's: run SKSERVE_BLESS=1 cargo test --test model docs::"
    );
}

#[test]
fn the_docs_list_every_class_the_catalog_serves_and_no_other() {
    let served = catalog::served();
    let mut matrix = String::from("| family | classes |\n|---|---|\n");
    for (room, classes) in &served {
        let names: Vec<String> = classes.iter().map(|c| format!("`{}`", c.name())).collect();
        matrix.push_str(&format!("| {room} | {} |\n", names.join(", ")));
    }
    generated_block("docs/models.md", "catalog", &matrix);

    let total: usize = served.iter().map(|(_, classes)| classes.len()).sum();
    let families: Vec<&str> = served.iter().map(|(room, _)| *room).collect();
    let summary = format!(
        "{total} classes in {} families ({}): [the list](docs/models.md#support-matrix).\n",
        families.len(),
        families.join(", ")
    );
    generated_block("README.md", "catalog-summary", &summary);
}
