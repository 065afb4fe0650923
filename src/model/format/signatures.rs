//! Formats skserve recognises by their signature but does not read yet: each is refused with a
//! message that says what the file is, so that nobody reads a zip archive's `P` as a pickle
//! opcode.

use super::{Audit, ModelFormat, READS};
use crate::model::{LoadError, Model};

/// A format skserve recognises but does not read yet: refused with a message that says what
/// the file is, so that nobody reads a zip archive's `P` as a pickle opcode.
fn not_read_yet(what: &str) -> LoadError {
    LoadError::Unsupported(format!("the file is {what}; skserve reads {READS}"))
}

/// A zip archive: what skops writes (`schema.json` and `.npy` members).
pub struct Zip;

impl ModelFormat for Zip {
    fn name(&self) -> &'static str {
        "zip"
    }

    fn sniff(&self, bytes: &[u8]) -> bool {
        // A local file header, or the end of an archive with no member.
        bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
    }

    fn load(&self, _bytes: &[u8]) -> Result<Model, LoadError> {
        Err(not_read_yet("a zip archive (skops?), not a pickle"))
    }

    fn audit(&self, _bytes: &[u8]) -> Audit {
        Audit::default()
    }
}
