//! LightGBM's own model files (`Booster.save_model`) as a [`ModelFormat`]: text whose first line
//! is `tree`, read by the LightGBM room (`crate::model::lightgbm`).
//!
//! What must not live here: what the text means (the room).

use super::{Audit, ModelFormat};
use crate::model::{Budget, LoadError, Model, lightgbm};

/// LightGBM's text model: a first line `tree`, then `version=`.
pub struct LightgbmText;

impl ModelFormat for LightgbmText {
    fn name(&self) -> &'static str {
        "lightgbm"
    }

    fn sniff(&self, bytes: &[u8]) -> bool {
        bytes.starts_with(b"tree\n") || bytes.starts_with(b"tree\r\n")
    }

    fn load(&self, bytes: &[u8], budget: &Budget) -> Result<Model, LoadError> {
        lightgbm::load_file(bytes, budget)
    }

    fn audit(&self, _bytes: &[u8], _budget: &Budget) -> Audit {
        Audit {
            format: Some("lightgbm"),
            ..Audit::default()
        }
    }
}
