//! Hand-made files that attack memory rather than run code, shared by the test binaries
//! (each includes this file): zero-width and overflowing shapes, amplification through the
//! memo and BUILD, through decoding (a byte becomes a word, four bytes a `String`), through
//! one-byte opcodes that each make a node or a stack entry, a sparse memo, a gzip bomb of
//! concatenated members, lying lengths and counts. Each is refused within the default
//! budget and within a smaller one, with a message saying what was too large (or what is
//! wrong with a shape); the real-model bombs of `tests/fixtures/hostile/` (made by
//! `tests/python/make_hostile.py`) complete the set.

#![allow(dead_code)]

use std::io::Write;

/// A hostile file and what its refusal must say.
pub struct Hostile {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    /// Text the error message contains.
    pub refused: &'static str,
    /// Refused for want of memory (`too_large`), rather than as malformed.
    pub too_large: bool,
}

/// Text every refusal for want of memory contains: the flag that sets the limit.
pub const TOO_LARGE: &str = "--max-model-bytes";

const PROTO4: &[u8] = b"\x80\x04";
const PROTO5: &[u8] = b"\x80\x05";

/// SHORT_BINUNICODE.
fn text(s: &str) -> Vec<u8> {
    let mut out = vec![0x8c, u8::try_from(s.len()).unwrap()];
    out.extend(s.as_bytes());
    out
}

/// SHORT_BINUNICODE module, name, STACK_GLOBAL.
fn global(module: &str, name: &str) -> Vec<u8> {
    [text(module), text(name), vec![0x93]].concat()
}

/// An integer: BININT, or LONG1 beyond 32 bits.
fn int(n: i128) -> Vec<u8> {
    if let Ok(small) = i32::try_from(n) {
        return [&[b'J'][..], &small.to_le_bytes()].concat();
    }
    let bytes = n.to_le_bytes();
    let len = (n.unsigned_abs().ilog2() as usize + 2).div_ceil(8);
    [&[0x8a, len as u8][..], &bytes[..len]].concat()
}

fn tuple(items: &[Vec<u8>]) -> Vec<u8> {
    [vec![b'('], items.concat(), vec![b't']].concat()
}

/// `numpy.dtype(code, False, True)` with its state (byte order, item size).
fn dtype(code: &str, item_size: i128) -> Vec<u8> {
    [
        global("numpy", "dtype"),
        tuple(&[text(code), vec![0x89], vec![0x88]]),
        vec![b'R'],
        tuple(&[
            int(3),
            text("<"),
            b"N".to_vec(),
            b"N".to_vec(),
            b"N".to_vec(),
            int(item_size),
            int(-1),
            int(0),
        ]),
        vec![b'b'],
    ]
    .concat()
}

/// Protocol 5's `_frombuffer(bytes, dtype, shape, 'C')`, the bytes in BINBYTES8.
fn frombuffer(data: &[u8], code: &str, item_size: i128, shape: &[i128]) -> Vec<u8> {
    let mut bytes = vec![0x8e];
    bytes.extend((data.len() as u64).to_le_bytes());
    bytes.extend(data);
    let shape: Vec<Vec<u8>> = shape.iter().map(|&d| int(d)).collect();
    [
        global("numpy._core.numeric", "_frombuffer"),
        tuple(&[bytes, dtype(code, item_size), tuple(&shape), text("C")]),
        vec![b'R'],
    ]
    .concat()
}

fn file(body: &[u8], proto: &[u8]) -> Vec<u8> {
    [proto, body, b"."].concat()
}

/// `count` copies of `op`.
fn repeated(op: &[u8], count: usize) -> Vec<u8> {
    op.repeat(count)
}

/// A list of a million items, memoized, built into 150 object arrays: each BUILD copies the
/// list, 16 MB a copy from 1 MB of file.
fn memo_build_amplification() -> Vec<u8> {
    let mut body = b"]\x94(".to_vec(); // EMPTY_LIST, MEMOIZE (key 0), MARK
    body.extend(repeated(b"N", 1_000_000));
    body.push(b'e'); // APPENDS
    body.push(b'0'); // POP the list; it stays in the memo
    body.push(b'(');
    for _ in 0..150 {
        body.extend(global("numpy.core.multiarray", "_reconstruct"));
        body.extend(tuple(&[
            global("numpy", "ndarray"),
            tuple(&[int(0)]),
            b"C\x01b".to_vec(),
        ]));
        body.push(b'R');
        body.extend(tuple(&[
            int(1),
            tuple(&[int(1_000_000)]),
            dtype("O8", -1),
            vec![0x89],
            b"h\x00".to_vec(), // BINGET 0: the memoized list
        ]));
        body.push(b'b');
    }
    body.push(b'l');
    file(&body, PROTO4)
}

/// gzip members of zeros, concatenated: 16 MiB compressed once, 64 members, 1 GiB out.
fn gzip_bomb() -> Vec<u8> {
    let mut stream = b"\x80\x04\x8e".to_vec();
    stream.extend((1u64 << 30).to_le_bytes());
    let mut first = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    first.write_all(&stream).unwrap();
    let mut member = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    member.write_all(&vec![0; 16 << 20]).unwrap();
    let member = member.finish().unwrap();
    let mut bytes = first.finish().unwrap();
    for _ in 0..64 {
        bytes.extend(&member);
    }
    bytes
}

/// A bare FunctionTransformer (NEWOBJ, then its state) claiming `n_features_in_`.
fn function_transformer_claiming(n_features: i128) -> Vec<u8> {
    let body = [
        global(
            "sklearn.preprocessing._function_transformer",
            "FunctionTransformer",
        ),
        b")\x81}".to_vec(),
        text("n_features_in_"),
        int(n_features),
        b"sb".to_vec(),
    ]
    .concat();
    file(&body, PROTO4)
}

/// Every hand-made file, largest last.
pub fn hostile_resource_files() -> Vec<Hostile> {
    vec![
        Hostile {
            name: "zero_width_text_of_2_40_elements",
            bytes: file(&frombuffer(b"", "U0", 0, &[1 << 40]), PROTO5),
            refused: "zero-width",
            too_large: false,
        },
        Hostile {
            name: "zero_width_bytes_of_2_61_elements",
            bytes: file(&frombuffer(b"", "S0", 0, &[1 << 61]), PROTO5),
            refused: "zero-width",
            too_large: false,
        },
        Hostile {
            name: "shape_overflowing_64_bits",
            bytes: file(&frombuffer(&[0; 8], "f8", -1, &[1 << 61, 16]), PROTO5),
            refused: "impossibly large",
            too_large: false,
        },
        Hostile {
            name: "shape_of_terabytes_in_8_bytes",
            bytes: file(
                &frombuffer(&[0; 8], "f8", -1, &[10_000_000, 10_000_000]),
                PROTO5,
            ),
            refused: "needs 800000000000000 bytes but the file holds 8",
            too_large: false,
        },
        Hostile {
            name: "length_of_a_terabyte_in_a_few_bytes",
            bytes: [PROTO4, b"\x8e", &(1u64 << 40).to_le_bytes(), b"abc."].concat(),
            refused: "truncated",
            too_large: false,
        },
        Hostile {
            name: "n_features_in_of_2_40",
            bytes: function_transformer_claiming(1 << 40),
            refused: "n_features_in_ = 1099511627776",
            too_large: true,
        },
        Hostile {
            name: "memo_and_build_amplification",
            bytes: memo_build_amplification(),
            refused: "an array of shape [1000000] of object",
            too_large: true,
        },
        Hostile {
            name: "three_million_one_byte_lists",
            bytes: file(&repeated(b"]", 3_000_000), PROTO4),
            refused: TOO_LARGE,
            too_large: true,
        },
        Hostile {
            name: "twenty_million_dups",
            bytes: file(
                &[b"N".to_vec(), repeated(b"2", 20_000_000)].concat(),
                PROTO4,
            ),
            refused: "the pickle's stack and memo",
            too_large: true,
        },
        Hostile {
            name: "six_million_sparse_memo_keys",
            bytes: {
                let mut body = b"N".to_vec();
                for key in 0..6_000_000u32 {
                    body.push(b'r');
                    body.extend((key | 1 << 31).to_le_bytes());
                }
                file(&body, PROTO4)
            },
            refused: TOO_LARGE,
            too_large: true,
        },
        Hostile {
            name: "forty_mib_of_uint8_decoded_to_words",
            bytes: file(
                &frombuffer(&vec![7; 40 << 20], "u1", -1, &[40 << 20]),
                PROTO5,
            ),
            refused: "an array of shape [41943040] of uint8",
            too_large: true,
        },
        Hostile {
            name: "thirty_two_mib_of_one_character_text",
            bytes: file(
                &frombuffer(&b"a\0\0\0".repeat(8 << 20), "U1", 4, &[8 << 20]),
                PROTO5,
            ),
            refused: "an array of shape [8388608] of <U1",
            too_large: true,
        },
        Hostile {
            name: "gzip_bomb_of_one_gib",
            bytes: gzip_bomb(),
            refused: "the model decompressed",
            too_large: true,
        },
    ]
}
