#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what the tests need (a Python venv with
# the real scikit-learn from PyPI, Debian packages the suite drives), checks formatting and
# lints, then runs every test. CI runs exactly this (.ci/run).
#
#   tests/run.sh         everything: the quick tier and the tests marked `#[ignore = "full
#                        tier: ..."]`, which need Python, a Debian package or the network
#   tests/run.sh quick   formatting, lints, and every test that needs none of those (what a
#                        plain `cargo test` runs); offline once the crates are fetched
#   tests/run.sh fuzz    a long fuzzing run of the loader (SKSERVE_FUZZ_CASES, default 5,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# Runs the tests with cargo's extra arguments `$@` and closes with one line for the whole
# suite: cargo prints one per test binary, some of them empty (the binary's own target, the
# benchmark run once as a test).
run_tests() {
    local log
    log=$(mktemp)
    trap 'rm -f "$log"' RETURN
    local status=0
    cargo test --no-fail-fast "$@" 2>&1 | tee "$log" || status=$?
    awk '/^test result:/ { passed += $4; failed += $6; ignored += $8 }
         END { printf "\nskserve tests: %d passed, %d failed", passed, failed
               if (ignored) printf " (%d of the full tier not run: tests/run.sh runs them)", ignored
               printf "\n" }' "$log"
    return "$status"
}

if [ "${1:-}" = quick ]; then
    step "format and lints"
    cargo fmt --all -- --check
    cargo clippy --all-targets --quiet -- -D warnings
    step "tests of the quick tier: no Python, no Debian package, no network"
    # The library, the binary and the test binaries, as a plain `cargo test`: the benchmarks
    # (run once as tests by the full tier) time models that scikit-learn fits.
    run_tests --lib --bins --tests
    exit
fi

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
apt_need prometheus prometheus  # the server that scrapes two instances (tests/scrape/)
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
step "in the background: the scikit-learn venv and model matrix, KServe's SDK, the Terraform checks' tools (npm, checkov), the Pipeline, tree, estimator, family, meta-estimator and transformer matrices of scikit-learn 1.1, 1.3 and 1.9, the census of 1.9, shap's answers, skops archives, XGBoost's and LightGBM's own answers, model health's Evidently"
prepare matrix bash -c 'bash tests/python/ensure_matrix.sh &&
    bash tests/python/setup_venv.sh target/kserve-venv tests/python/requirements-kserve.txt kserve >&2 &&
    bash tests/terraform/ensure_tools.sh'
prepare pipelines bash -c 'bash tests/python/pipelines/ensure_pipelines.sh && bash tests/python/trees/ensure_trees.sh &&
    bash tests/python/estimators/ensure_estimators.sh && bash tests/python/census/ensure_census.sh &&
    bash tests/python/families/ensure_families.sh && bash tests/python/transformers/ensure_transformers.sh &&
    bash tests/python/skops/ensure_skops.sh && bash tests/python/manifold/ensure_manifold.sh'
# XGBoost 1.7/2.1/3.x and LightGBM 3.3/4.x against themselves, then the models trained as a user
# trains them (tests/api/gbm_files.rs)
prepare gbm bash -c 'bash tests/python/gbm/ensure_gbm.sh && bash tests/python/gbm/ensure_user_models.sh'
prepare health bash tests/python/health/ensure_health.sh  # Evidently and scipy (tests/api/health_stats.rs)

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
finish gbm
finish health
SKSERVE_GBM_DIR=$(sed -n 1p target/prepare-gbm.out)
SKSERVE_GBM_USER_DIR=$(sed -n 2p target/prepare-gbm.out)
export SKSERVE_GBM_DIR SKSERVE_GBM_USER_DIR
SKSERVE_MATRIX_DIR=$(sed -n 1p target/prepare-matrix.out)
SKSERVE_PIPELINES_DIR=$(sed -n 1p target/prepare-pipelines.out)
SKSERVE_TREES_DIR=$(sed -n 2p target/prepare-pipelines.out)
SKSERVE_ESTIMATORS_DIR=$(sed -n 3p target/prepare-pipelines.out)
SKSERVE_CENSUS_DIR=$(sed -n 4p target/prepare-pipelines.out)
SKSERVE_FAMILIES_DIR=$(sed -n 5p target/prepare-pipelines.out)
SKSERVE_TRANSFORMERS_DIR=$(sed -n 6p target/prepare-pipelines.out)
SKSERVE_SKOPS_DIR=$(sed -n 7p target/prepare-pipelines.out)
SKSERVE_MANIFOLD_DIR=$(sed -n 8p target/prepare-pipelines.out)
export SKSERVE_MANIFOLD_DIR
export SKSERVE_MATRIX_DIR SKSERVE_PIPELINES_DIR SKSERVE_TREES_DIR SKSERVE_ESTIMATORS_DIR SKSERVE_CENSUS_DIR \
    SKSERVE_FAMILIES_DIR SKSERVE_TRANSFORMERS_DIR SKSERVE_SKOPS_DIR

step "tests: the quick tier and the full tier"
run_tests --all-targets -- --include-ignored
