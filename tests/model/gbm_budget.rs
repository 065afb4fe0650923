//! XGBoost, LightGBM and skops files within the loading budget (`--max-model-bytes`), with
//! hand-made and small real files: whatever the limit, a file that does not fit is refused as
//! too large, naming the flag, never as malformed; the same by `inspect`, which still names
//! the format; and a tree that claims more leaves than the budget holds is refused before
//! anything is made of it.

use skserve::model::inspect::inspect_within;
use skserve::model::{LoadError, LoadLimits, Model};

use crate::helpers::repo;

fn limits(max_model_bytes: u64) -> LoadLimits {
    LoadLimits { max_model_bytes }
}

/// The small real files of each format, and the format `inspect` names.
fn files() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let read = |path: &str| std::fs::read(repo().join(path)).unwrap();
    vec![
        (
            "xgb_small.json",
            read("tests/fixtures/gbm/xgb_small.json"),
            "json",
        ),
        (
            "xgb_small.ubj",
            read("tests/fixtures/gbm/xgb_small.ubj"),
            "ubjson",
        ),
        (
            "lgb_small.txt",
            read("tests/fixtures/gbm/lgb_small.txt"),
            "lightgbm",
        ),
        (
            "pipeline.skops",
            read("tests/fixtures/skops_seeds/pipeline_ct_ohe_logistic__skops-newest.skops"),
            "skops",
        ),
        (
            "hist_gradient_boosting.skops",
            read("tests/fixtures/skops_seeds/hist_gradient_boosting_binary__skops-newest.skops"),
            "skops",
        ),
    ]
}

/// From a limit below the file's size up to the first that loads it, every refusal is
/// `too_large` and names the flag, by the loader and by `inspect`.
#[test]
fn every_limit_short_of_a_model_refuses_it_as_too_large() {
    for (name, bytes, format) in files() {
        let mut limit = bytes.len() as u64 / 2;
        let mut refused = 0;
        loop {
            match Model::from_bytes_within(&bytes, limits(limit)) {
                Ok(_) => break,
                Err(LoadError::TooLarge(too_large)) => {
                    let message = too_large.to_string();
                    assert!(message.contains("--max-model-bytes"), "{name}: {message}");
                    refused += 1;
                }
                Err(other) => panic!("{name} within {limit} bytes: not too_large: {other}"),
            }
            let inspection = inspect_within(&bytes, name, limits(limit));
            assert_eq!(inspection.format, format, "{name} within {limit} bytes");
            assert!(!inspection.loadable, "{name} within {limit} bytes");
            let error = inspection.error.unwrap();
            assert!(error.contains("--max-model-bytes"), "{name}: {error}");
            limit += limit / 16 + 1;
            assert!(limit < 64 << 20, "{name} does not load within 64 MiB");
        }
        assert!(
            refused >= 8,
            "{name}: only {refused} limits were short of it"
        );
        let inspection = inspect_within(&bytes, name, limits(limit));
        assert!(inspection.loadable, "{name}: {:?}", inspection.error);
        assert_eq!(inspection.format, format, "{name}");
    }
}

/// A LightGBM tree that claims a million leaves in a file of a few kilobytes is charged for
/// them before any is read: refused as too large, not after allocating for them.
#[test]
fn a_lightgbm_tree_claiming_more_leaves_than_the_budget_holds_is_too_large() {
    let text =
        String::from_utf8(std::fs::read(repo().join("tests/fixtures/gbm/lgb_small.txt")).unwrap())
            .unwrap();
    let tree0 = text.find("Tree=0\n").unwrap();
    let at = tree0 + text[tree0..].find("\nnum_leaves=").unwrap() + 1;
    let end = at + text[at..].find('\n').unwrap();
    let edited = format!("{}num_leaves=1000000{}", &text[..at], &text[end..]);
    let error = Model::from_bytes_within(edited.as_bytes(), limits(8 << 20)).unwrap_err();
    let message = error.explain("lgb.txt");
    assert!(matches!(error, LoadError::TooLarge(_)), "{message}");
    assert!(message.contains("Tree=0 of 1000000 leaves"), "{message}");
    // Within the default budget the same tree is malformed: it holds far fewer leaf values.
    let error = Model::from_bytes(edited.as_bytes()).unwrap_err();
    assert!(matches!(error, LoadError::Malformed(_)), "{error}");
    assert!(error.to_string().contains("leaf_value"), "{error}");
}
