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

step "Debian packages the tests drive"
apt_need python3.11 python3.11-venv  # the Pipeline matrix's venvs (every pinned wheel exists for 3.11)
apt_need promtool prometheus  # promtool check/test rules of monitoring/prometheus
apt_need prometheus prometheus  # the server that scrapes two instances (tests/api/fleet.rs)
apt_need chromium chromium    # the /slo dashboard in a headless browser
apt_need npm npm              # the google provider's schema for the Terraform check

# The Python side fills venvs from PyPI and fits models while cargo compiles: the two wait on
# different things (the network and one core against both cores), so side by side they take
# little more than the longer of the two. Each job logs to target/prepare-*.log, printed when
# it fails; its result is a directory the tests are told of.
step "uv, which fills every test venv (target/uv-venv)"
bash tests/python/ensure_uv.sh >/dev/null
mkdir -p target
prepare() {
    local name=$1; shift
    set -m  # a process group of its own, so that an early exit stops the whole job
    "$@" > "target/prepare-$name.out" 2> "target/prepare-$name.log" &
    eval "prepare_$name=$!"
    set +m
    prepared+=("$!")
}
prepared=()
trap 'for job in "${prepared[@]}"; do kill -- "-$job" 2>/dev/null || true; done' EXIT
finish() {
    local name=$1 pid_var="prepare_$1"
    if ! wait "${!pid_var}"; then
        cat "target/prepare-$name.log" >&2
        echo "tests/run.sh: preparing $name failed (log above: target/prepare-$name.log)" >&2
        exit 1
    fi
}
step "in the background: the scikit-learn venv and model matrix, KServe's SDK, the Terraform checks' tools (npm, checkov), the Pipeline and tree matrices of scikit-learn 1.1, 1.3 and 1.9, shap's answers"
prepare matrix bash -c 'bash tests/python/ensure_matrix.sh &&
    bash tests/python/setup_venv.sh target/kserve-venv tests/python/requirements-kserve.txt kserve >&2 &&
    bash tests/terraform/ensure_tools.sh'
prepare pipelines bash -c 'bash tests/python/pipelines/ensure_pipelines.sh && bash tests/python/trees/ensure_trees.sh'

if [ "${1:-}" = fuzz ]; then
    finish matrix
    finish pipelines
    step "fuzzing the loader"
    SKSERVE_MATRIX_DIR=$(sed -n 1p target/prepare-matrix.out) SKSERVE_PIPELINES_DIR=$(sed -n 1p target/prepare-pipelines.out) \
        SKSERVE_TREES_DIR=$(sed -n 2p target/prepare-pipelines.out) SKSERVE_FUZZ_CASES=${SKSERVE_FUZZ_CASES:-5000000} cargo test --release --test model fuzz:: -- --nocapture
    exit 0
fi

step "format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings

step "building the tests"
cargo test --all-targets --no-run --quiet

step "waiting for the Python side"
finish matrix
finish pipelines
SKSERVE_MATRIX_DIR=$(sed -n 1p target/prepare-matrix.out)
SKSERVE_PIPELINES_DIR=$(sed -n 1p target/prepare-pipelines.out)
SKSERVE_TREES_DIR=$(sed -n 2p target/prepare-pipelines.out)
export SKSERVE_MATRIX_DIR SKSERVE_PIPELINES_DIR SKSERVE_TREES_DIR

step "tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --all-targets --no-fail-fast 2>&1 | tee "$log"
# The full tier: tests marked #[ignore = "full tier: …"] need what this script installed.
cargo test --tests --no-fail-fast -- --ignored 2>&1 | tee -a "$log"
# One closing line for the whole suite: cargo prints one per test binary, some of them empty
# (the binary's own target, the benchmark run once as a test).
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "\nskserve tests: %d passed, %d failed\n", passed, failed }' "$log"
