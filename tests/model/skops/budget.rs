//! skops archives within the loading budget: what an archive inflates, the values built from
//! its states and its arrays at their decoded size are charged as a pickle's are, so that an
//! archive over `--max-model-bytes` is refused as too large, naming the flag.

use skserve::model::format::skops::{self, Limits};
use skserve::model::{Budget, LoadError, LoadLimits};

use super::hostile::SEED;
use crate::helpers::repo;

/// An archive that needs more than the loading budget is refused as too large, naming the
/// flag, whether its members, its values or its arrays reach the limit first; with the
/// default budget it loads.
#[test]
fn an_archive_over_the_loading_budget_is_refused_naming_the_flag() {
    let bytes = std::fs::read(repo().join(SEED)).unwrap();
    for limit in [4 << 10, 32 << 10, 96 << 10] {
        let budget = Budget::new(LoadLimits {
            max_model_bytes: limit,
        });
        let error = skops::load(&bytes, Limits::DEFAULT, &budget).unwrap_err();
        let message = error.explain("seed.skops");
        assert!(
            matches!(error, LoadError::TooLarge(_)),
            "{limit}: {message}"
        );
        assert!(message.contains("--max-model-bytes"), "{message}");
    }
    let budget = Budget::new(LoadLimits::default());
    skops::load(&bytes, Limits::DEFAULT, &budget).unwrap();
}
