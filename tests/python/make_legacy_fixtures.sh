#!/usr/bin/env bash
# Regenerate the checked-in fixtures under tests/fixtures/legacy/.
#
#   tests/python/make_legacy_fixtures.sh [ENV_NAME...]
#
# For each pinned environment (tests/python/legacy/requirements-<ENV>.txt) a
# venv is built under $LEGACY_VENV_ROOT (default /tmp/skserve-legacy-venvs)
# with $PYTHON (default python3.11: every pinned wheel exists for 3.11), and
# make_legacy_fixtures.py writes tests/fixtures/legacy/<ENV>/.
# Without arguments every environment is rebuilt.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export PYTHON="${PYTHON:-python3.11}"
venv_root="${LEGACY_VENV_ROOT:-/tmp/skserve-legacy-venvs}"
out_root="$repo/tests/fixtures/legacy"

# environment -> formats written (comma-separated, see make_matrix.FORMATS)
declare -A FORMATS=(
    ["sk1.3.2-np1.26"]="pickle-p2,pickle-p4,pickle-p5,joblib,joblib-zlib"
    # this environment exists for joblib's container format only
    ["joblib1.1.1-sk1.3.2-np1.26"]="joblib,joblib-zlib"
)

if [ $# -gt 0 ]; then
    envs=("$@")
else
    envs=("sk1.3.2-np1.26" "joblib1.1.1-sk1.3.2-np1.26")
fi

for env in "${envs[@]}"; do
    req="$here/legacy/requirements-$env.txt"
    [ -f "$req" ] || { echo "make_legacy_fixtures.sh: no $req" >&2; exit 1; }
    [ -n "${FORMATS[$env]:-}" ] || { echo "make_legacy_fixtures.sh: no formats for $env" >&2; exit 1; }
    venv="$venv_root/$env"
    "$here/setup_venv.sh" "$venv" "$req"
    echo "== $env" >&2
    "$venv/bin/python" "$here/make_legacy_fixtures.py" "$out_root/$env" \
        --formats "${FORMATS[$env]}" --environment "$env"
done
