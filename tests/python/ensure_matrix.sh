#!/usr/bin/env bash
# Makes sure the test venv and the scikit-learn model matrix exist and are current, then
# prints the matrix directory. Used by tests/run.sh and by the Rust tests when run alone.
#
#   tests/python/ensure_matrix.sh   -> target/sk-matrix (venv in target/test-venv)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv="$repo/target/test-venv"
matrix="$repo/target/sk-matrix"
bash "$repo/tests/python/setup_venv.sh" "$venv" >&2
# Remade when the generator or the venv changes, so the expected answers are never stale.
stamp=$(cat "$repo/tests/python/make_matrix.py" "$venv/.skserve-requirements.sha256" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$matrix/.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$matrix"
    "$venv/bin/python" "$repo/tests/python/make_matrix.py" "$matrix" >&2
    echo "$stamp" > "$matrix/.stamp"
fi
echo "$matrix"
