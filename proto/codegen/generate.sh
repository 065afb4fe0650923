#!/usr/bin/env bash
# Regenerates src/grpc/generated/ from proto/*.proto (pure Rust: no protoc needed), then
# formats it as the rest of the tree. Run after editing a .proto; commit the result.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cargo run --quiet --manifest-path "$repo/proto/codegen/Cargo.toml" \
    --target-dir "$repo/target/proto-codegen" -- "$repo"
rustfmt --edition 2024 "$repo"/src/grpc/generated/{inference,health}.rs
