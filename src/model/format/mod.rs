//! The seam between model files and [`Model`]: each kind of file skserve recognises is a
//! [`ModelFormat`], told apart by its bytes (magic numbers, structure), never by the file's
//! name, so that a `gs://` object and its refresh are read exactly as a file is.
//!
//! A format recognises its files ([`ModelFormat::sniff`]), loads them without executing
//! anything ([`ModelFormat::load`]), and audits what they reference, loadable or not
//! ([`ModelFormat::audit`]). [`FORMATS`] lists them in the order they are tried; a file none
//! of them recognises is refused with the list of what skserve reads.
//!
//! What must not live here: how a format is read (each format has a module of its own below)
//! or what scikit-learn's estimators mean (the rooms).
//!
//! # Layout
//! - `pickled`: pickles and joblib files.
//! - `signatures`: the formats recognised but not read yet, refused by what they are.

mod pickled;
mod signatures;

use super::joblib::Container;
use super::pickle::GlobalRef;
use super::{Budget, LoadError, Model};
use signatures::{JSON, LIGHTGBM_TEXT, UBJSON, ZIP};

/// Where a model came from: its format as `inspect` names it (`pickle`, `joblib`), the
/// compression around its stream if any, and its protocol for a pickle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub format: &'static str,
    pub compression: Option<Container>,
    pub protocol: Option<u8>,
}

/// A kind of model file: recognised from its bytes, loaded, audited.
pub trait ModelFormat: Sync {
    /// How `inspect`, V2 metadata and errors name it: `pickle`, `joblib`, `zip`.
    fn name(&self) -> &'static str;
    /// Whether `bytes` are of this format, from their content alone.
    fn sniff(&self, bytes: &[u8]) -> bool;
    /// The model in `bytes`, read without executing anything, every size it claims charged to
    /// `budget` before anything is allocated for it (the file itself is charged already).
    fn load(&self, bytes: &[u8], budget: &Budget) -> Result<Model, LoadError>;
    /// What the file references and how it is wrapped, for `inspect`, whether or not it loads;
    /// reading it within `budget` as a load would.
    fn audit(&self, bytes: &[u8], budget: &Budget) -> Audit;
}

/// What a format's audit finds in a file.
#[derive(Clone, Debug, Default)]
pub struct Audit {
    /// The format's own name for this file when it has several (`joblib` among pickles).
    pub format: Option<&'static str>,
    /// The compression around the stream, if any.
    pub compression: Option<Container>,
    /// The pickle protocol, for pickles.
    pub protocol: Option<u8>,
    /// Every class or function the file names, each allowed or refused.
    pub globals: Vec<GlobalRef>,
}

/// The formats skserve recognises, in the order they are tried: the ones with an unmistakable
/// signature first, pickles (whose first byte may be one of many opcodes) last.
pub const FORMATS: &[&dyn ModelFormat] = &[&ZIP, &UBJSON, &JSON, &LIGHTGBM_TEXT, &pickled::Pickled];

/// The format of `bytes`, or why none fits.
pub fn detect(bytes: &[u8]) -> Result<&'static dyn ModelFormat, LoadError> {
    if bytes.is_empty() {
        return Err(LoadError::Malformed("the file is empty".into()));
    }
    FORMATS
        .iter()
        .copied()
        .find(|format| format.sniff(bytes))
        .ok_or_else(|| {
            LoadError::Malformed(format!(
                "not a model file skserve reads (unknown leading bytes {}); skserve reads {}",
                leading(bytes),
                READS
            ))
        })
}

/// What skserve reads, for messages.
pub const READS: &str = "scikit-learn pickles and joblib files (plain, zlib, gzip, bz2, xz or \
                         lzma)";

/// The first bytes of a file as a person can read them: `50 4b 03 04`.
fn leading(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(bytes: &[u8]) -> &'static str {
        detect(bytes).map_or("none", |f| f.name())
    }

    #[test]
    fn formats_are_told_apart_by_their_bytes() {
        assert_eq!(name_of(b"PK\x03\x04\x14\x00"), "zip");
        assert_eq!(name_of(b"{\"learner\": {}}"), "json");
        assert_eq!(name_of(b"  {\n  \"version\": [2, 1, 0]}"), "json");
        assert_eq!(
            name_of(b"{L\x00\x00\x00\x00\x00\x00\x00\x07learner"),
            "ubjson"
        );
        assert_eq!(name_of(b"tree\nversion=v4\n"), "lightgbm");
        assert_eq!(name_of(b"\x80\x04\x95"), "pickle");
        assert_eq!(name_of(b"hello"), "none");
    }

    #[test]
    fn a_zip_archive_is_not_read_as_a_pickle() {
        let error = crate::model::Model::from_bytes(b"PK\x03\x04rest").unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("a zip archive (skops?), not a pickle"),
            "{message}"
        );
        assert!(!message.contains("PERSID"), "{message}");
    }

    #[test]
    fn unknown_bytes_name_what_skserve_reads() {
        let message = detect(b"\x00\x01garbage").err().unwrap().to_string();
        assert!(message.contains("00 01 67 61"), "{message}");
        assert!(message.contains("scikit-learn pickles"), "{message}");
    }
}
