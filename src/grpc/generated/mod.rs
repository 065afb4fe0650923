//! The messages and stubs generated from `proto/` by `proto/codegen/generate.sh` (prost and
//! tonic's code generator). Checked in, so that building skserve needs no protobuf compiler;
//! never edited by hand. Each file records the SHA-256 of its proto, and the test below fails
//! when a proto changed without its code being generated again.

#![allow(clippy::all, clippy::pedantic, missing_docs, unreachable_pub)]

pub mod health;
pub mod inference;

#[cfg(test)]
mod tests {
    /// The SHA-256 a generated file says it was made from.
    fn recorded(generated: &str) -> &str {
        generated
            .lines()
            .find_map(|line| line.strip_prefix("// proto sha256: "))
            .expect("a generated file records its proto's hash")
    }

    fn sha256(bytes: &[u8]) -> String {
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn the_generated_code_is_made_from_the_protos_in_the_tree() {
        for (proto, generated) in [
            (
                &include_bytes!("../../../proto/inference.proto")[..],
                include_str!("inference.rs"),
            ),
            (
                &include_bytes!("../../../proto/health.proto")[..],
                include_str!("health.rs"),
            ),
        ] {
            assert_eq!(
                recorded(generated),
                sha256(proto),
                "a proto changed: run proto/codegen/generate.sh"
            );
        }
    }
}
