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

# Installs a Debian package when the command a test drives is missing (as root, or with sudo).
apt_need() {
    local command=$1 package=$2 sudo=""
    command -v "$command" >/dev/null 2>&1 && return 0
    step "installing $package (the tests run $command)"
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$package"
}

step "Python venv with scikit-learn and the model matrix (target/)"
SKSERVE_MATRIX_DIR=$(bash tests/python/ensure_matrix.sh)
export SKSERVE_MATRIX_DIR

step "Pipelines fitted by scikit-learn 1.1, 1.3 and 1.9, each in a venv of its own (target/)"
SKSERVE_PIPELINES_DIR=$(bash tests/python/pipelines/ensure_pipelines.sh)
export SKSERVE_PIPELINES_DIR

step "Tree models fitted by scikit-learn 1.1, 1.3 and 1.9 (target/)"
SKSERVE_TREES_DIR=$(bash tests/python/trees/ensure_trees.sh)
export SKSERVE_TREES_DIR

if [ "${1:-}" = fuzz ]; then
    step "fuzzing the loader"
    SKSERVE_FUZZ_CASES=${SKSERVE_FUZZ_CASES:-5000000} cargo test --release --test model fuzz:: -- --nocapture
    exit 0
fi

step "Debian packages the tests drive"
apt_need promtool prometheus  # promtool check/test rules of monitoring/prometheus
apt_need prometheus prometheus  # the server that scrapes two instances (tests/api/fleet.rs)
apt_need chromium chromium    # the /slo dashboard in a headless browser
apt_need npm npm              # the google provider's schema for the Terraform check

step "Terraform checks: the google provider's schema (npm) and checkov (PyPI), under target/"
bash tests/terraform/ensure_tools.sh

step "format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings

step "tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --all-targets 2>&1 | tee "$log"
# One closing line for the whole suite: cargo prints one per test binary, some of them empty
# (the binary's own target, the benchmark run once as a test).
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "\nskserve tests: %d passed, %d failed\n", passed, failed }' "$log"
