//! Formats skserve recognises by their signature but does not read yet: each is refused with a
//! message that says what the file is, so that nobody reads a zip archive's `P` as a pickle
//! opcode or a JSON model as garbage.

use super::{Audit, ModelFormat, READS};
use crate::model::{Budget, LoadError, Model};

/// A format known by its first bytes, refused by what it is.
pub struct Recognised {
    name: &'static str,
    sniff: fn(&[u8]) -> bool,
    /// What the file is, for the refusal: `a zip archive (skops?), not a pickle`.
    describe: fn(&[u8]) -> &'static str,
}

impl ModelFormat for Recognised {
    fn name(&self) -> &'static str {
        self.name
    }

    fn sniff(&self, bytes: &[u8]) -> bool {
        (self.sniff)(bytes)
    }

    fn load(&self, bytes: &[u8], _budget: &Budget) -> Result<Model, LoadError> {
        Err(LoadError::Unsupported(format!(
            "the file is {}; skserve reads {READS}",
            (self.describe)(bytes)
        )))
    }

    fn audit(&self, _bytes: &[u8], _budget: &Budget) -> Audit {
        Audit::default()
    }
}

/// A zip archive: what skops writes (`schema.json` and `.npy` members). A local file header,
/// or the end of an archive with no member.
pub const ZIP: Recognised = Recognised {
    name: "zip",
    sniff: |bytes| bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06"),
    describe: |_| "a zip archive (skops?), not a pickle",
};

/// A JSON document: what XGBoost's `save_model("model.json")` writes.
pub const JSON: Recognised = Recognised {
    name: "json",
    sniff: |bytes| {
        let text = bytes.trim_ascii_start();
        text.first() == Some(&b'{')
            && text
                .get(1..)
                .and_then(|rest| rest.trim_ascii_start().first())
                .is_some_and(|&b| b == b'"' || b == b'}')
    },
    describe: |bytes| {
        if bytes.windows(9).any(|w| w == b"\"learner\"") {
            "an XGBoost model (JSON)"
        } else {
            "a JSON document, not a pickle"
        }
    },
};

/// Universal Binary JSON: what XGBoost's `save_model("model.ubj")` writes. An object opens
/// with `{` and its first key's length marker (`i`, `U`, `I`, `l`, `L`), or a count or type
/// (`#`, `$`), where JSON would have a quote or white space.
pub const UBJSON: Recognised = Recognised {
    name: "ubjson",
    sniff: |bytes| {
        matches!(
            bytes,
            [b'{', b'i' | b'U' | b'I' | b'l' | b'L' | b'#' | b'$', ..]
        )
    },
    describe: |_| "an XGBoost model (UBJSON)",
};

/// LightGBM's text model (`Booster.save_model`): a first line `tree`, then `version=`.
pub const LIGHTGBM_TEXT: Recognised = Recognised {
    name: "lightgbm",
    sniff: |bytes| bytes.starts_with(b"tree\n") || bytes.starts_with(b"tree\r\n"),
    describe: |_| "a LightGBM model (text)",
};
