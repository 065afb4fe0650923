#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what the tests need (a Python venv with
# the real scikit-learn from PyPI, Debian packages the suite drives), checks formatting and
# lints, then runs every test. CI runs exactly this (.ci/run).
#
#   tests/run.sh         everything
#   tests/run.sh fuzz    a long fuzzing run of the loader (SKSERVE_FUZZ_CASES, default 5,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "Python venv with scikit-learn and the model matrix (target/)"
SKSERVE_MATRIX_DIR=$(bash tests/python/ensure_matrix.sh)
export SKSERVE_MATRIX_DIR

if [ "${1:-}" = fuzz ]; then
    step "fuzzing the loader"
    SKSERVE_FUZZ_CASES=${SKSERVE_FUZZ_CASES:-5000000} cargo test --release --test model fuzz:: -- --nocapture
    exit 0
fi

step "format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings

step "tests"
cargo test --all-targets
