//! Formats skserve recognises by their signature but does not read yet: each is refused with a
//! message that says what the file is, so that nobody reads a JSON model's `{` as garbage.

use super::{Audit, ModelFormat, READS};
use crate::model::{LoadError, Model};

/// A format skserve recognises but does not read yet: refused with a message that says what
/// the file is.
fn not_read_yet(what: &str) -> LoadError {
    LoadError::Unsupported(format!("the file is {what}; skserve reads {READS}"))
}

/// A JSON document: what XGBoost's `save_model("model.json")` writes.
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

    fn load(&self, bytes: &[u8]) -> Result<Model, LoadError> {
        let what = if bytes.windows(9).any(|w| w == b"\"learner\"") {
            "an XGBoost model (JSON)"
        } else {
            "a JSON document, not a pickle"
        };
        Err(not_read_yet(what))
    }

    fn audit(&self, _bytes: &[u8]) -> Audit {
        Audit::default()
    }
}

/// Universal Binary JSON: what XGBoost's `save_model("model.ubj")` writes. An object opens
/// with `{` and its first key's length marker (`i`, `U`, `I`, `l`, `L`), or a count or type
/// (`#`, `$`), where JSON would have a quote or white space.
pub struct XgboostUbjson;

impl ModelFormat for XgboostUbjson {
    fn name(&self) -> &'static str {
        "ubjson"
    }

    fn sniff(&self, bytes: &[u8]) -> bool {
        matches!(
            bytes,
            [b'{', b'i' | b'U' | b'I' | b'l' | b'L' | b'#' | b'$', ..]
        )
    }

    fn load(&self, _bytes: &[u8]) -> Result<Model, LoadError> {
        Err(not_read_yet("an XGBoost model (UBJSON)"))
    }

    fn audit(&self, _bytes: &[u8]) -> Audit {
        Audit::default()
    }
}

/// LightGBM's text model (`Booster.save_model`): a first line `tree`, then `version=`.
pub struct LightgbmText;

impl ModelFormat for LightgbmText {
    fn name(&self) -> &'static str {
        "lightgbm"
    }

    fn sniff(&self, bytes: &[u8]) -> bool {
        bytes.starts_with(b"tree\n") || bytes.starts_with(b"tree\r\n")
    }

    fn load(&self, _bytes: &[u8]) -> Result<Model, LoadError> {
        Err(not_read_yet("a LightGBM model (text)"))
    }

    fn audit(&self, _bytes: &[u8]) -> Audit {
        Audit::default()
    }
}
