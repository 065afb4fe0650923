//! The container around the pickle: plain pickle, joblib plain, or joblib compressed (zlib, the
//! default, and gzip, bz2, xz, lzma), told apart by magic bytes.
//!
//! joblib's inline array bytes are read by the pickle VM itself (`NumpyArrayWrapper`); this module
//! only peels compression off, with a ceiling on the decompressed size so a small file cannot
//! expand into unbounded memory.

use std::io::Read;

use super::pickle::opcodes::PROTO;

/// Largest decompressed model skserve accepts.
pub const MAX_DECOMPRESSED_BYTES: u64 = 2 << 30;

/// How the model bytes were wrapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// A pickle stream as it is (plain pickle files and uncompressed joblib files).
    Plain,
    Zlib,
    Gzip,
    Bz2,
    Xz,
    Lzma,
}

impl Container {
    /// Recognises the container from the file's first bytes.
    pub fn detect(bytes: &[u8]) -> Result<Self, String> {
        Ok(match bytes {
            [PROTO, ..] => Self::Plain,
            // zlib: CMF 0x78 (deflate, 32K window) and a header checksum divisible by 31.
            [0x78, flg, ..] if (0x7800u16 | *flg as u16).is_multiple_of(31) => Self::Zlib,
            [0x1f, 0x8b, ..] => Self::Gzip,
            [b'B', b'Z', b'h', ..] => Self::Bz2,
            [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Self::Xz,
            [0x5d, 0x00, 0x00, ..] => Self::Lzma,
            [b'Z', b'F', ..] => {
                return Err(
                    "joblib files older than joblib 0.10 (ZF format) are not supported".into(),
                );
            }
            [] => return Err("the file is empty".into()),
            // Protocol 0 and 1 streams have no PROTO header; the VM says what is wrong with them.
            [
                b'(' | b'c' | b'i' | b'P' | b']' | b'}' | b')' | b'N' | b'I' | b'S' | b'V',
                ..,
            ] => Self::Plain,
            _ => return Err("not a pickle or joblib file (unknown leading bytes)".into()),
        })
    }

    /// The pickle stream inside `bytes`.
    pub fn open(self, bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, String> {
        let limit = MAX_DECOMPRESSED_BYTES + 1;
        let mut out = Vec::new();
        let result = match self {
            Self::Plain => return Ok(std::borrow::Cow::Borrowed(bytes)),
            Self::Zlib => flate2::read::ZlibDecoder::new(bytes)
                .take(limit)
                .read_to_end(&mut out),
            Self::Gzip => flate2::read::MultiGzDecoder::new(bytes)
                .take(limit)
                .read_to_end(&mut out),
            Self::Bz2 => bzip2::read::MultiBzDecoder::new(bytes)
                .take(limit)
                .read_to_end(&mut out),
            Self::Xz | Self::Lzma => {
                let mut reader = std::io::BufReader::new(bytes);
                let mut writer = LimitedWriter {
                    out: &mut out,
                    limit,
                };
                let decoded = if self == Self::Xz {
                    lzma_rs::xz_decompress(&mut reader, &mut writer)
                } else {
                    lzma_rs::lzma_decompress(&mut reader, &mut writer)
                };
                decoded
                    .map(|_| 0)
                    .map_err(|e| std::io::Error::other(e.to_string()))
            }
        };
        result.map_err(|e| format!("cannot decompress the {self:?} stream: {e}"))?;
        if out.len() as u64 >= limit {
            return Err(format!(
                "the decompressed model is larger than {} bytes",
                MAX_DECOMPRESSED_BYTES
            ));
        }
        Ok(std::borrow::Cow::Owned(out))
    }
}

/// A writer that refuses to grow past `limit` bytes (lzma-rs writes to a sink, not a reader).
struct LimitedWriter<'a> {
    out: &'a mut Vec<u8>,
    limit: u64,
}

impl std::io::Write for LimitedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() as u64 + buf.len() as u64 > self.limit {
            return Err(std::io::Error::other("decompressed size limit reached"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn zlib_round_trip_is_detected_and_opened() {
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(3));
        enc.write_all(b"\x80\x04N.").unwrap();
        let bytes = enc.finish().unwrap();
        let container = Container::detect(&bytes).unwrap();
        assert_eq!(container, Container::Zlib);
        assert_eq!(&*container.open(&bytes).unwrap(), b"\x80\x04N.");
    }

    #[test]
    fn unknown_bytes_are_a_clear_error() {
        assert!(
            Container::detect(b"hello")
                .unwrap_err()
                .contains("not a pickle")
        );
    }
}
