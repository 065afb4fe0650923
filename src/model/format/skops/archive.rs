//! The zip archive around a skops model, opened with bounds before anything is inflated: at
//! most [`Limits::max_members`] members, no name written twice, no path that climbs (`..`) or
//! starts at a root, no two members sharing bytes (the trick of zip bombs that reuse one
//! deflate stream), only stored or deflated members, unencrypted. Members are read only when
//! the schema names them, each streamed into a buffer that stops at what remains of
//! [`Limits::max_total_bytes`], however small the member claims to be. The directory the zip
//! reader keeps (a record per member) is charged to the load's budget as soon as it is read:
//! its size follows from the file's (every record takes at least 46 of its bytes), which is
//! charged before, so reading it cannot cost more than a few times the file.
//!
//! What must not live here: what a member holds (`npy`, `json`, `build`).

use std::borrow::Cow;
use std::io::{Cursor, Read};

use zip::{CompressionMethod, ZipArchive};

use crate::model::budget::{Budget, TooLarge};

/// The bounds of one archive. A field each, so that a wider loading budget can set them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Members an archive may hold: a forest of 1,000 trees writes about 5,000, a
    /// HistGradientBoosting model of 1,000 iterations and 10 classes about 30,000.
    pub max_members: usize,
    /// Bytes every member read together may inflate to, whatever the loading budget allows.
    pub max_total_bytes: u64,
    /// Bytes `schema.json` may inflate to: its parsed tree costs several times as much.
    pub max_schema_bytes: u64,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_members: 100_000,
        max_total_bytes: 2 << 30,
        max_schema_bytes: 256 << 20,
    };
}

/// What the zip reader keeps of one member beyond its name: its record (sizes, offsets, flags,
/// times, extra fields) and its entry in the index by name.
const DIRECTORY_BYTES_PER_MEMBER: usize = 320;

/// Why an archive is not opened.
#[derive(Debug)]
pub enum Refusal {
    Malformed(String),
    /// Its directory needs more than the loading budget has left.
    TooLarge(TooLarge),
}

impl From<String> for Refusal {
    fn from(why: String) -> Self {
        Refusal::Malformed(why)
    }
}

/// An archive whose directory has passed the checks.
pub struct Archive<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    limits: Limits,
    /// Bytes inflated so far.
    read: u64,
    /// The load's budget, charged every byte inflated before it is kept.
    budget: &'a Budget,
    /// The charge past the budget that stopped a read, if one did.
    too_large: Option<TooLarge>,
}

impl<'a> Archive<'a> {
    /// Opens `bytes` and checks the directory: member count, names, overlaps, declared sizes;
    /// the directory is charged to `budget`.
    pub fn open(bytes: &'a [u8], limits: Limits, budget: &'a Budget) -> Result<Self, Refusal> {
        let mut zip = ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| format!("it is not a readable zip archive: {e}"))?;
        if zip.len() > limits.max_members {
            return Err(Refusal::Malformed(format!(
                "the archive holds {} members (at most {} are read)",
                zip.len(),
                limits.max_members
            )));
        }
        // Each name is kept three times: as written, decoded, and as the index's key.
        let names: usize = zip
            .file_names()
            .map(|name| name.map_or(0, |name| name.len()))
            .sum();
        budget
            .charge_items(zip.len(), DIRECTORY_BYTES_PER_MEMBER, || {
                format!("the directory of {} members", zip.len())
            })
            .and_then(|()| {
                budget.charge(names.saturating_mul(3), || {
                    "the names of the archive's members".to_owned()
                })
            })
            .map_err(Refusal::TooLarge)?;
        if zip.has_duplicate_names() {
            return Err(Refusal::Malformed(
                "the archive holds two members of the same name (which one is read is up to the \
                 reader)"
                    .into(),
            ));
        }
        let mut declared = 0u64;
        for index in 0..zip.len() {
            let member = zip
                .by_index_data(index)
                .map_err(|e| format!("member {index} of the archive is unreadable: {e}"))?;
            check_name(member.name_raw())?;
            declared = declared.saturating_add(member.size());
        }
        if declared > limits.max_total_bytes {
            return Err(Refusal::Malformed(format!(
                "its members claim {declared} bytes uncompressed (at most {} are read)",
                limits.max_total_bytes
            )));
        }
        if zip
            .has_overlapping_entries()
            .map_err(|e| format!("the archive's directory is unreadable: {e}"))?
        {
            return Err(Refusal::Malformed(
                "members of the archive share bytes, as zip bombs do (no writer of skops archives \
                 does)"
                    .into(),
            ));
        }
        Ok(Self {
            zip,
            limits,
            read: 0,
            budget,
            too_large: None,
        })
    }

    /// The load's budget.
    pub fn budget(&self) -> &'a Budget {
        self.budget
    }

    /// The charge past the budget that stopped a read, if that is what stopped it.
    pub fn too_large(&mut self) -> Option<TooLarge> {
        self.too_large.take()
    }

    /// Takes `bytes` of member `name` from the budget, or keeps the refusal and tells it.
    fn charge(&mut self, name: &str, bytes: u64) -> Result<(), String> {
        let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        self.budget
            .charge(bytes, || format!("the member {name:?} inflated"))
            .map_err(|e| {
                let told = e.to_string();
                self.too_large = Some(e);
                told
            })
    }

    pub fn contains(&self, name: &str) -> bool {
        self.zip.index_for_name(name).is_some()
    }

    /// The bytes of the member `name`, inflated into a buffer that stops at the budget left.
    pub fn read(&mut self, name: &str, limit: u64) -> Result<Vec<u8>, String> {
        let index = self
            .zip
            .index_for_name(name)
            .ok_or_else(|| format!("the archive has no member {name:?}"))?;
        let left = self
            .limits
            .max_total_bytes
            .saturating_sub(self.read)
            .min(limit);
        let entry = self
            .zip
            .by_index_data(index)
            .map_err(|e| format!("the member {name:?} is unreadable: {e}"))?;
        if entry.encrypted() {
            return Err(format!("the member {name:?} is encrypted"));
        }
        match entry.compression() {
            CompressionMethod::Stored | CompressionMethod::Deflated => {}
            other => {
                return Err(format!(
                    "the member {name:?} is compressed with {other} (skserve reads members \
                     stored or deflated)"
                ));
            }
        }
        if entry.size() > left {
            return Err(too_large(name, left));
        }
        let declared = entry.size();
        // What the member claims is charged before it is inflated, and what it inflates to
        // may not go past the budget either, whatever it claimed.
        if declared > self.budget.remaining() {
            self.charge(name, declared)?;
        }
        let left = left.min(self.budget.remaining());
        // The declared size only sets the first allocation; the reads below are what count.
        let mut out = Vec::with_capacity(declared.min(left).min(1 << 20) as usize);
        self.zip
            .by_index(index)
            .map_err(|e| format!("the member {name:?} is unreadable: {e}"))?
            .take(left + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("the member {name:?} cannot be inflated: {e}"))?;
        if out.len() as u64 > self.budget.remaining() {
            self.charge(name, out.len() as u64)?;
        }
        if out.len() as u64 > left {
            return Err(too_large(name, left));
        }
        self.charge(name, out.len() as u64)?;
        self.read += out.len() as u64;
        Ok(out)
    }

    /// `schema.json`, within its own bound.
    pub fn schema(&mut self) -> Result<Vec<u8>, String> {
        self.read(SCHEMA, self.limits.max_schema_bytes)
    }
}

/// The member holding the objects' states.
pub const SCHEMA: &str = "schema.json";

fn too_large(name: &str, left: u64) -> String {
    format!("the member {name:?} inflates beyond {left} bytes, the budget left for the archive")
}

/// Refuses a member name that climbs out of the archive or starts at a root: skops never
/// writes one, and a reader that extracts members would write outside its directory.
fn check_name(raw: &[u8]) -> Result<(), String> {
    let name: Cow<'_, str> = String::from_utf8_lossy(raw);
    let unsafe_name = name.starts_with('/')
        || name.starts_with('\\')
        || name.as_bytes().get(1) == Some(&b':')
        || name.contains('\0')
        || name.split(['/', '\\']).any(|part| part == "..");
    if unsafe_name {
        return Err(format!(
            "the archive holds a member named {name:?}, a path outside the archive"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn climbing_and_rooted_names_are_refused() {
        for bad in [
            "../x.npy",
            "a/../../x",
            "/etc/passwd",
            "\\x",
            "C:\\x.npy",
            "a\\..\\b",
            "x\0.npy",
        ] {
            assert!(check_name(bad.as_bytes()).is_err(), "{bad}");
        }
        for good in ["schema.json", "140.npy", "a/b.npy", "..x.npy", "x..npy"] {
            assert!(check_name(good.as_bytes()).is_ok(), "{good}");
        }
    }
}
