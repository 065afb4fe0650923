//! skops archives (`skops.io.dump`, skops 0.6 to today: protocols 1 and 2) as a
//! [`ModelFormat`]: a zip of `schema.json`, the tree of every object's state, and the `.npy`
//! members holding its arrays.
//!
//! skops's own loader imports and calls what the file names once an audit has passed. Here
//! nothing is ever called: every name the schema gives is resolved through skserve's own
//! allow-list (as a pickle's GLOBAL is) and the whole schema is audited before any member is
//! read, so that every type that is not allowed is named at once. The states become the same
//! arena of values the pickle VM builds, and the catalog's rooms read it with the same state
//! checks, so that every class skserve serves from a pickle is served from skops too. A list
//! of trusted types carried in the file is never read.
//!
//! Malformed archives are refused before anything is allocated for them: bounds on members
//! and inflated bytes (`archive`), `.npy` headers checked against the bytes that follow
//! (`npy`), nesting bounded by the JSON reader (`json`).
//!
//! What must not live here: what an estimator's state means (the rooms, through `catalog`).
//!
//! # Layout
//! - `archive`: the zip, its bounds ([`Limits`]), members read on demand.
//! - `json`: `schema.json` in order; the scalars of `JsonNode`.
//! - `names`: what each state may build, by the allow-list; the audit.
//! - `build`: states into the arena of values.
//! - `npy`: numpy's `.npy` arrays.

mod archive;
mod build;
mod json;
mod names;
mod npy;

pub use archive::Limits;

use super::{Audit, ModelFormat, READS};
use crate::model::pickle::PickleError;
use crate::model::{Budget, LoadError, Model, Origin};
use archive::Archive;
use json::Json;

/// The skops protocols read: 1 (skops 0.6 to 0.9) and 2 (skops 0.10 and later).
const PROTOCOLS: std::ops::RangeInclusive<i64> = 1..=2;

/// skops archives, and any other zip archive (refused for what it is).
pub struct Skops;

impl ModelFormat for Skops {
    fn name(&self) -> &'static str {
        "skops"
    }

    fn sniff(&self, bytes: &[u8]) -> bool {
        // A local file header, or the end of an archive with no member.
        bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
    }

    fn load(&self, bytes: &[u8], budget: &Budget) -> Result<Model, LoadError> {
        load(bytes, Limits::DEFAULT, budget)
    }

    fn audit(&self, bytes: &[u8], budget: &Budget) -> Audit {
        let mut audit = Audit {
            format: Some("zip"),
            ..Audit::default()
        };
        let mut archive = match Archive::open(bytes, Limits::DEFAULT, budget) {
            Ok(archive) => archive,
            // Past the budget nothing is known of it but its signature (the detector's name).
            Err(archive::Refusal::TooLarge(_)) => return Audit::default(),
            Err(archive::Refusal::Malformed(_)) => return audit,
        };
        if archive.contains(archive::SCHEMA) {
            audit.format = Some("skops");
        }
        let Ok(Ok(schema)) = archive.schema().map(|s| Json::parse(&s, budget)) else {
            return audit;
        };
        audit.format = Some("skops");
        audit.protocol = protocol(&schema).ok();
        audit.globals = names::audit(&schema);
        audit
    }
}

/// Loads a skops archive within `limits`, charging what it inflates and builds to `budget`.
pub fn load(bytes: &[u8], limits: Limits, budget: &Budget) -> Result<Model, LoadError> {
    let malformed = |why: String| LoadError::Malformed(format!("the skops archive: {why}"));
    let mut archive = match Archive::open(bytes, limits, budget) {
        Ok(archive) => archive,
        Err(archive::Refusal::TooLarge(too_large)) => return Err(LoadError::TooLarge(too_large)),
        Err(archive::Refusal::Malformed(why)) => return Err(malformed(why)),
    };
    if !archive.contains(archive::SCHEMA) {
        return Err(LoadError::Unsupported(format!(
            "the file is a zip archive without {}, so not a skops archive; skserve reads {READS}",
            archive::SCHEMA
        )));
    }
    let schema = match archive.schema() {
        Ok(schema) => schema,
        Err(why) => {
            return Err(archive
                .too_large()
                .map_or_else(|| malformed(why), LoadError::TooLarge));
        }
    };
    let schema = Json::parse(&schema, budget)?;
    let protocol = protocol(&schema)?;
    let refused: Vec<String> = names::audit(&schema)
        .into_iter()
        .filter(|name| !name.allowed)
        .map(|name| name.name)
        .collect();
    if !refused.is_empty() {
        return Err(LoadError::Refused(PickleError::RefusedNames(refused)));
    }
    let mut builder = build::Builder::new(&mut archive);
    let root = match builder.value(&schema) {
        Ok(root) => root,
        Err(why) => {
            return Err(builder
                .too_large()
                .map_or_else(|| malformed(why), LoadError::TooLarge));
        }
    };
    let heap = builder.heap;
    heap.depth_limited(root).map_err(malformed)?;
    let origin = Origin {
        format: "skops",
        compression: None,
        protocol: Some(protocol),
    };
    super::read_model(&heap, root, origin, budget)
}

/// The archive's protocol, if skserve reads it.
fn protocol(schema: &Json) -> Result<u8, LoadError> {
    match schema.get("protocol") {
        Some(Json::Int(p)) if PROTOCOLS.contains(p) => Ok(*p as u8),
        Some(Json::Int(0)) => Err(LoadError::Unsupported(
            "the skops archive was written by skops 0.5 or older (protocol 0); skserve reads \
             protocols 1 and 2 (skops 0.6 and later)"
                .into(),
        )),
        Some(Json::Int(p)) => Err(LoadError::Unsupported(format!(
            "the skops archive has protocol {p}, newer than skserve reads (1 and 2: skops 0.6 and \
             later, to date)"
        ))),
        _ => Err(LoadError::Malformed(
            "the skops archive: schema.json has no protocol".into(),
        )),
    }
}
