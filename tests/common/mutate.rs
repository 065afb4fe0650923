//! Mutations of model files, shared by the loader's fuzzer and the server's (each test binary
//! includes this file): bit flips, byte changes, inserted opcodes, cuts, splices between
//! files, duplicated runs, extreme length fields, and size fields set to what hurts most (a
//! shape, a dtype's width, a string's or bytes' length, a count, a frame's length), inside a
//! compressed file's stream too, which is then compressed again.

#![allow(dead_code)]

use std::io::{Read, Write};

/// xorshift64*: deterministic and fast; the seed is printed so a failure can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Opcodes worth inserting: every one the VM knows, plus the refused ones.
const OPCODES: &[u8] = b"\x80\x95.(N\x88\x89JKM\x8a\x8bG\x8cXUTCB\x8e\x96)t\x85\x86\x87}dsu]lae\x8f\x90\x91012\x94qrhjc\x93R\x81bio\x92\x82\x83\x84PQ\x97\x98";

/// One to five random mutations of `input`, splicing from `seeds`.
pub fn mutate(rng: &mut Rng, seeds: &[&[u8]], input: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let len = input.len().max(1);
        match rng.below(9) {
            0 => {
                let i = rng.below(len);
                if let Some(b) = input.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
            1 => {
                let i = rng.below(len);
                if let Some(b) = input.get_mut(i) {
                    *b = rng.next() as u8;
                }
            }
            2 => {
                let op = OPCODES[rng.below(OPCODES.len())];
                input.insert(rng.below(input.len() + 1), op);
            }
            3 => {
                let start = rng.below(len);
                let end = (start + rng.below(64)).min(input.len());
                if start < end {
                    input.drain(start..end);
                }
            }
            4 => {
                // Splice a piece of another file in.
                let other = seeds[rng.below(seeds.len())];
                let start = rng.below(other.len());
                let end = (start + rng.below(256)).min(other.len());
                let at = rng.below(input.len() + 1);
                input.splice(at..at, other[start..end].iter().copied());
            }
            5 => {
                // An extreme length or count field.
                let at = rng.below(input.len() + 1);
                let value: [u8; 8] = match rng.below(3) {
                    0 => u64::MAX.to_le_bytes(),
                    1 => (u32::MAX as u64).to_le_bytes(),
                    _ => (1u64 << 31).to_le_bytes(),
                };
                input.splice(at..at, value[..1 + rng.below(8)].iter().copied());
            }
            6 | 7 => mutate_size(rng, input),
            _ => {
                let start = rng.below(len);
                let end = (start + rng.below(32)).min(input.len());
                let chunk = input[start..end].to_vec();
                input.splice(end..end, chunk);
            }
        }
    }
}

/// Values a size field is set to: nothing, one, just past a boundary, the most its width
/// holds, and the sizes that overflow or exhaust memory once multiplied.
fn hurtful(rng: &mut Rng, remaining: usize) -> u64 {
    match rng.below(10) {
        0 => 0,
        1 => 1,
        2 => remaining as u64 + 1,
        3 => (remaining as u64).saturating_mul(1 << rng.below(12)),
        4 => (1 << 31) - 1,
        5 => 1 << 31,
        6 => u32::MAX as u64,
        7 => 1 << 40,
        8 => 1 << 61,
        _ => u64::MAX,
    }
}

/// Sets one size field of a pickle stream (or, for a compressed file, of the stream inside
/// it, compressed again after) to a hurtful value: an integer (shape entries, counts, item
/// sizes), the length of a string, bytes or frame, or the width in a dtype string.
pub fn mutate_size(rng: &mut Rng, input: &mut Vec<u8>) {
    if let Some(mut stream) = decompressed(input) {
        mutate_size(rng, &mut stream);
        if let Some(again) = compressed_like(input, &stream) {
            *input = again;
        }
        return;
    }
    // Where a size can be: an opcode with a length or integer argument.
    let sized: Vec<usize> = input
        .iter()
        .enumerate()
        .filter(|(_, b)| b"JKM\x8aXBTC\x8c\x8d\x8e\x96\x95".contains(b))
        .map(|(i, _)| i)
        .collect();
    if sized.is_empty() {
        return;
    }
    let at = sized[rng.below(sized.len())];
    let remaining = input.len() - at;
    let value = hurtful(rng, remaining);
    let width = match input[at] {
        b'K' | b'C' => 1,
        b'M' => 2,
        b'J' | b'X' | b'B' | b'T' => 4,
        0x8c => {
            // A short string: when it is a dtype (`f8`, `<U7`), its width instead.
            let len = input.get(at + 1).copied().unwrap_or(0) as usize;
            let text = input.get(at + 2..at + 2 + len).unwrap_or(&[]);
            if (1..=4).contains(&len) && text.iter().any(u8::is_ascii_digit) {
                let digits = ["0", "1", "9", "99999999", "4294967296"][rng.below(5)];
                let kind = text.iter().take_while(|b| !b.is_ascii_digit()).count();
                let mut dtype = text[..kind].to_vec();
                dtype.extend(digits.as_bytes());
                let mut replacement = vec![0x8c, dtype.len() as u8];
                replacement.extend(dtype);
                input.splice(at..at + 2 + len, replacement);
                return;
            }
            1
        }
        0x8a => {
            // LONG1: any integer, however wide.
            let len = input.get(at + 1).copied().unwrap_or(0) as usize;
            let mut replacement = vec![0x8a, 8];
            replacement.extend(value.to_le_bytes());
            let end = (at + 2 + len).min(input.len());
            input.splice(at..end, replacement);
            return;
        }
        _ => 8,
    };
    let bytes = value.to_le_bytes();
    for (k, b) in bytes[..width].iter().enumerate() {
        if let Some(slot) = input.get_mut(at + 1 + k) {
            *slot = *b;
        }
    }
}

/// The stream inside a zlib, gzip or bz2 file (at most 16 MiB of it).
fn decompressed(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let limit = 16 << 20;
    let read = match input {
        [0x78, ..] => flate2::read::ZlibDecoder::new(input)
            .take(limit)
            .read_to_end(&mut out),
        [0x1f, 0x8b, ..] => flate2::read::MultiGzDecoder::new(input)
            .take(limit)
            .read_to_end(&mut out),
        [b'B', b'Z', b'h', ..] => bzip2::read::MultiBzDecoder::new(input)
            .take(limit)
            .read_to_end(&mut out),
        _ => return None,
    };
    read.ok().map(|_| out)
}

/// `stream` compressed as `like` was.
fn compressed_like(like: &[u8], stream: &[u8]) -> Option<Vec<u8>> {
    let level = flate2::Compression::fast();
    match like {
        [0x78, ..] => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), level);
            e.write_all(stream).ok()?;
            e.finish().ok()
        }
        [0x1f, 0x8b, ..] => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
            e.write_all(stream).ok()?;
            e.finish().ok()
        }
        _ => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            e.write_all(stream).ok()?;
            e.finish().ok()
        }
    }
}
