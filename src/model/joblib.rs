//! The container around the pickle: plain pickle, joblib plain, or joblib compressed (zlib, the
//! default, and gzip, bz2, xz, lzma), told apart by magic bytes.
//!
//! joblib's inline array bytes are read by the pickle VM itself (`NumpyArrayWrapper`); this module
//! only peels compression off. It decompresses into one buffer that grows only while the load's
//! budget allows it and stops there, so a small file cannot expand into more memory than the
//! budget, and the decompressed bytes are never copied again.

use std::borrow::Cow;
use std::io::Read;

use super::LoadError;
use super::budget::{self, Budget, Held, TooLarge};
use super::pickle::opcodes::PROTO;

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

    /// The pickle stream inside `bytes`, decompressed within `budget` (which is charged for
    /// it; a plain stream is the file itself and costs nothing more).
    pub fn open<'b>(self, bytes: &'b [u8], budget: &Budget) -> Result<Cow<'b, [u8]>, LoadError> {
        let mut out = Bounded::new(budget, self);
        let result = match self {
            Self::Plain => return Ok(Cow::Borrowed(bytes)),
            Self::Zlib => out.read_all(flate2::read::ZlibDecoder::new(bytes)),
            Self::Gzip => out.read_all(flate2::read::MultiGzDecoder::new(bytes)),
            Self::Bz2 => out.read_all(bzip2::read::MultiBzDecoder::new(bytes)),
            Self::Xz | Self::Lzma => {
                let mut reader = std::io::BufReader::new(bytes);
                let decoded = if self == Self::Xz {
                    lzma_rs::xz_decompress(&mut reader, &mut out)
                } else {
                    lzma_rs::lzma_decompress(&mut reader, &mut out)
                };
                decoded.map_err(|e| std::io::Error::other(e.to_string()))
            }
        };
        if let Some(refused) = out.refused.take() {
            return Err(LoadError::TooLarge(refused));
        }
        result.map_err(|e| {
            LoadError::Malformed(format!("cannot decompress the {self:?} stream: {e}"))
        })?;
        Ok(Cow::Owned(out.finish()?))
    }
}

/// Decompressed bytes, growing only within the budget: the room a growth takes is held
/// before it is reserved, and what the stream turned out to need is charged at the end.
struct Bounded<'b> {
    budget: &'b Budget,
    out: Vec<u8>,
    /// The room reserved so far (the buffer's capacity, and for xz and lzma their window).
    room: Option<Held<'b>>,
    /// xz and lzma keep a window of what they decoded, at most as large as the output.
    window: bool,
    refused: Option<TooLarge>,
}

/// The first room a stream gets; each growth after doubles it, within the budget.
const FIRST_ROOM: usize = 1 << 20;

impl<'b> Bounded<'b> {
    fn new(budget: &'b Budget, container: Container) -> Self {
        Self {
            budget,
            out: Vec::new(),
            room: None,
            window: matches!(container, Container::Xz | Container::Lzma),
            refused: None,
        }
    }

    /// Appends `data`, growing within the budget; past it the stream is refused.
    fn extend(&mut self, data: &[u8]) -> std::io::Result<()> {
        let needed = self.out.len() + data.len();
        if needed > self.out.capacity() {
            // Give back the room held so far, then hold the whole new room at once.
            self.room = None;
            let copies = if self.window { 2 } else { 1 };
            let most = usize::try_from(self.budget.remaining()).unwrap_or(usize::MAX) / copies;
            let wanted = (2 * self.out.capacity()).max(FIRST_ROOM).max(needed);
            let room = wanted.min(most).max(needed);
            let held = self.budget.hold(room.saturating_mul(copies), || {
                format!(
                    "the model decompressed (more than {} of it)",
                    budget::bytes(needed as u64)
                )
            });
            match held {
                Ok(held) => self.room = Some(held),
                Err(refused) => {
                    self.refused = Some(refused);
                    return Err(std::io::Error::other("the loading budget is spent"));
                }
            }
            self.out
                .try_reserve_exact(room - self.out.len())
                .map_err(std::io::Error::other)?;
        }
        self.out.extend_from_slice(data);
        Ok(())
    }

    /// Reads `reader` to its end into the buffer.
    fn read_all(&mut self, mut reader: impl Read) -> std::io::Result<()> {
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => self.extend(&chunk[..n])?,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The stream, its spare room given back and its length charged for the rest of the load.
    fn finish(mut self) -> Result<Vec<u8>, LoadError> {
        self.out.shrink_to_fit();
        self.room = None;
        let len = self.out.len();
        self.budget
            .charge(len, || "the model decompressed".to_owned())
            .map_err(LoadError::TooLarge)?;
        Ok(self.out)
    }
}

impl std::io::Write for Bounded<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.extend(buf)?;
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
        let budget = Budget::default();
        assert_eq!(&*container.open(&bytes, &budget).unwrap(), b"\x80\x04N.");
        assert_eq!(
            budget.held(),
            4,
            "the stream is charged, its spare room given back"
        );
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
