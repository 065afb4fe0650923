//! Formats skserve recognises by their signature but does not read yet: each is refused with a
//! message that says what the file is, so that nobody reads a zip archive's `P` as a pickle
//! opcode.

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
