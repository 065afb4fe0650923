//! Editing real skops archives the way an attacker would: members taken out and put back,
//! `schema.json` rewritten, `.npy` headers changed, and the zip's own headers patched where
//! no honest writer would go (sizes that lie, names written twice, members sharing bytes).

use std::io::{Cursor, Read, Write};

use serde_json::{Value, json};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

/// An archive's members, in order.
#[derive(Clone)]
pub struct Members(pub Vec<(String, Vec<u8>)>);

impl Members {
    pub fn of(archive: &[u8]) -> Self {
        let mut zip = ZipArchive::new(Cursor::new(archive)).unwrap();
        let members = (0..zip.len())
            .map(|i| {
                let mut member = zip.by_index(i).unwrap();
                let mut bytes = Vec::new();
                member.read_to_end(&mut bytes).unwrap();
                (member.name().unwrap().into_owned(), bytes)
            })
            .collect();
        Self(members)
    }

    pub fn zip(&self, method: CompressionMethod) -> Vec<u8> {
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(method);
        for (name, bytes) in &self.0 {
            writer.start_file(name, options).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    pub fn stored(&self) -> Vec<u8> {
        self.zip(CompressionMethod::Stored)
    }

    pub fn get(&self, name: &str) -> &[u8] {
        &self.0.iter().find(|(n, _)| n == name).unwrap().1
    }

    pub fn set(&mut self, name: &str, bytes: Vec<u8>) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(member) => member.1 = bytes,
            None => self.0.push((name.to_owned(), bytes)),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| n != name);
    }

    pub fn schema(&self) -> Value {
        serde_json::from_slice(self.get("schema.json")).unwrap()
    }

    pub fn set_schema(&mut self, schema: &Value) {
        self.set("schema.json", serde_json::to_vec(schema).unwrap());
    }

    /// The `.npy` members, in order.
    pub fn arrays(&self) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n.ends_with(".npy"))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The first `.npy` member of a non-empty array whose header says `needle`.
    pub fn array_with(&self, needle: &str) -> String {
        self.arrays()
            .into_iter()
            .find(|n| {
                let header = npy_header(self.get(n));
                header.contains(needle) && !header.contains("(0,") && !header.contains("()")
            })
            .unwrap_or_else(|| panic!("no array whose header says {needle}"))
    }
}

/// A `.npy` member's header text.
pub fn npy_header(npy: &[u8]) -> String {
    let length = u16::from_le_bytes([npy[8], npy[9]]) as usize;
    String::from_utf8_lossy(&npy[10..10 + length]).into_owned()
}

/// The `.npy` member with `from` replaced by `to` in its header, padded as numpy pads it.
pub fn edit_npy_header(npy: &[u8], from: &str, to: &str) -> Vec<u8> {
    let header = npy_header(npy);
    assert!(header.contains(from), "{header} has no {from}");
    let mut edited = header.replacen(from, to, 1).trim_end().to_owned();
    while !(10 + edited.len() + 1).is_multiple_of(64) {
        edited.push(' ');
    }
    edited.push('\n');
    let mut out = npy[..8].to_vec();
    out.extend((edited.len() as u16).to_le_bytes());
    out.extend(edited.as_bytes());
    out.extend(&npy[10 + header.len()..]);
    out
}

/// Every state in `value` (a JSON object with a `__loader__`) for which `pick` holds, in
/// document order.
pub fn states_mut<'a>(
    value: &'a mut Value,
    pick: &dyn Fn(&Value) -> bool,
    out: &mut Vec<&'a mut Value>,
) {
    let picked = value.get("__loader__").is_some() && pick(value);
    if picked {
        out.push(value);
        return;
    }
    match value {
        Value::Object(fields) => fields.values_mut().for_each(|v| states_mut(v, pick, out)),
        Value::Array(items) => items.iter_mut().for_each(|v| states_mut(v, pick, out)),
        _ => {}
    }
}

/// The first state of class `class`.
pub fn state_of<'a>(schema: &'a mut Value, class: &str) -> &'a mut Value {
    let mut found = Vec::new();
    states_mut(schema, &|s| s["__class__"] == class, &mut found);
    found
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {class} in the schema"))
}

/// A state as skops writes it.
pub fn state(loader: &str, module: &str, class: &str) -> Value {
    json!({ "__class__": class, "__module__": module, "__loader__": loader })
}

pub fn text(s: &str) -> Value {
    json!({ "__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
            "content": serde_json::to_string(s).unwrap(), "is_json": true })
}

pub fn tuple(items: Vec<Value>) -> Value {
    json!({ "__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode", "content": items })
}

pub fn dict(items: Vec<(&str, Value)>) -> Value {
    let keys: Vec<Value> = items
        .iter()
        .map(|_| state("TypeNode", "builtins", "str"))
        .collect();
    let content: serde_json::Map<String, Value> =
        items.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    json!({ "__class__": "dict", "__module__": "builtins", "__loader__": "DictNode",
            "content": content,
            "key_types": { "__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
                           "content": keys } })
}

/// Adds `attr` to an object's state (its `__dict__`), with its key type.
pub fn add_attr(object: &mut Value, attr: &str, value: Value) {
    let dict = &mut object["content"];
    dict["content"][attr] = value;
    dict["key_types"]["content"]
        .as_array_mut()
        .unwrap()
        .push(state("TypeNode", "builtins", "str"));
}

/// Offsets of every central directory entry of a zip, walked from its end record.
fn central_entries(zip: &[u8]) -> Vec<usize> {
    let end = zip.len() - 22;
    assert_eq!(&zip[end..end + 4], b"PK\x05\x06", "a zip without a comment");
    let le16 = |at: usize| u16::from_le_bytes([zip[at], zip[at + 1]]) as usize;
    let count = le16(end + 10);
    let mut at = u32::from_le_bytes(zip[end + 16..end + 20].try_into().unwrap()) as usize;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        assert_eq!(&zip[at..at + 4], b"PK\x01\x02");
        out.push(at);
        at += 46 + le16(at + 28) + le16(at + 30) + le16(at + 32);
    }
    out
}

/// Offsets of every local file header of a zip, from its directory.
fn local_headers(zip: &[u8]) -> Vec<usize> {
    central_entries(zip)
        .into_iter()
        .map(|entry| u32::from_le_bytes(zip[entry + 42..entry + 46].try_into().unwrap()) as usize)
        .collect()
}

/// Sets member `index`'s uncompressed size in both its headers.
pub fn patch_size(zip: &mut [u8], index: usize, size: u32) {
    let local = local_headers(zip)[index];
    zip[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
    let central = central_entries(zip)[index];
    zip[central + 24..central + 28].copy_from_slice(&size.to_le_bytes());
}

/// Sets member `index`'s compression method in both its headers.
pub fn patch_method(zip: &mut [u8], index: usize, method: u16) {
    let local = local_headers(zip)[index];
    zip[local + 8..local + 10].copy_from_slice(&method.to_le_bytes());
    let central = central_entries(zip)[index];
    zip[central + 10..central + 12].copy_from_slice(&method.to_le_bytes());
}

/// Sets the "encrypted" flag of member `index` in both its headers.
pub fn patch_encrypted(zip: &mut [u8], index: usize) {
    let local = local_headers(zip)[index];
    zip[local + 6] |= 1;
    let central = central_entries(zip)[index];
    zip[central + 8] |= 1;
}

/// Points member `index`'s directory entry at member `other`'s bytes.
pub fn patch_shared(zip: &mut [u8], index: usize, other: usize) {
    let entries = central_entries(zip);
    let target = entries[other];
    let offset: [u8; 4] = zip[target + 42..target + 46].try_into().unwrap();
    let entry = entries[index];
    zip[entry + 42..entry + 46].copy_from_slice(&offset);
}

/// Replaces every occurrence of `from` by `to` (of the same length) in the raw bytes.
pub fn patch_bytes(zip: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let at: Vec<usize> = zip
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == from)
        .map(|(i, _)| i)
        .collect();
    assert!(!at.is_empty());
    for i in at {
        zip[i..i + to.len()].copy_from_slice(to);
    }
}
