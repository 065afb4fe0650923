//! XGBoost's own model files (`Booster.save_model`) as [`ModelFormat`]s: JSON and UBJSON,
//! told apart by their first bytes and read by the XGBoost room (`crate::model::xgboost`).
//!
//! What must not live here: what the document means (the room).

use super::{Audit, ModelFormat, READS};
use crate::model::xgboost::{self, Encoding};
use crate::model::{Budget, LoadError, Model};

/// A JSON document: XGBoost's `save_model("model.json")`.
pub struct Json;

impl ModelFormat for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn sniff(&self, bytes: &[u8]) -> bool {
        let text = bytes.trim_ascii_start();
        text.first() == Some(&b'{')
            && text
                .get(1..)
                .and_then(|rest| rest.trim_ascii_start().first())
                .is_some_and(|&b| b == b'"' || b == b'}')
    }

    fn load(&self, bytes: &[u8], budget: &Budget) -> Result<Model, LoadError> {
        if !bytes.windows(9).any(|w| w == b"\"learner\"") {
            return Err(LoadError::Unsupported(format!(
                "the file is a JSON document but not an XGBoost model (it has no \"learner\"); \
                 skserve reads {READS}"
            )));
        }
        xgboost::load_file(bytes, Encoding::Json, budget)
    }

    fn audit(&self, _bytes: &[u8], _budget: &Budget) -> Audit {
        Audit {
            format: Some("json"),
            ..Audit::default()
        }
    }
}

/// Universal Binary JSON: XGBoost's `save_model("model.ubj")`. An object opens with `{` and
/// its first key's length marker (`i`, `U`, `I`, `l`, `L`), or a count or type (`#`, `$`),
/// where JSON would have a quote or white space.
pub struct Ubjson;

impl ModelFormat for Ubjson {
    fn name(&self) -> &'static str {
        "ubjson"
    }

    fn sniff(&self, bytes: &[u8]) -> bool {
        matches!(
            bytes,
            [b'{', b'i' | b'U' | b'I' | b'l' | b'L' | b'#' | b'$', ..]
        )
    }

    fn load(&self, bytes: &[u8], budget: &Budget) -> Result<Model, LoadError> {
        xgboost::load_file(bytes, Encoding::Ubjson, budget)
    }

    fn audit(&self, _bytes: &[u8], _budget: &Budget) -> Audit {
        Audit {
            format: Some("ubjson"),
            ..Audit::default()
        }
    }
}
