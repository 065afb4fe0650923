#!/usr/bin/env bash
# Makes sure the Pipeline matrix exists for every scikit-learn version it covers, each fitted
# in a venv of its own, and prints the directory holding one matrix per version.
#
#   tests/python/pipelines/ensure_pipelines.sh   -> target/sk-pipelines (sk1.1/, sk1.3/, sk1.9/,
#                                                   challenge/)
#
# Venvs: target/sk1.1-venv, target/sk1.3-venv, target/sk1.9-venv (Python 3.11, for which every
# pinned wheel exists; requirements-sk*.txt beside this script). A matrix is remade only when
# its generator or its venv changes, so a second run costs nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out="$repo/target/sk-pipelines"
export PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || { echo "ensure_pipelines.sh: $PYTHON is needed (Python 3.11: the pinned wheels are built for it)" >&2; exit 1; }
mkdir -p "$out"
for version in 1.1 1.3 1.9; do
    venv="$repo/target/sk$version-venv"
    bash "$repo/tests/python/setup_venv.sh" "$venv" "$here/requirements-sk$version.txt" >&2
    matrix="$out/sk$version"
    stamp=$(cat "$here/make_pipelines.py" "$venv/.skserve-requirements.sha256" | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$matrix/.stamp" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$matrix"
        "$venv/bin/python" "$here/make_pipelines.py" "$matrix" >&2
        echo "$stamp" > "$matrix/.stamp"
    fi
done
# The challenge data as a ColumnTransformer(OneHotEncoder) + LogisticRegression, and a numeric
# scaler + Ridge pipeline (the HTTP tests and the benchmarks), fitted by 1.9.
challenge="$out/challenge"
stamp=$(cat "$here/make_challenge.py" "$repo/target/sk1.9-venv/.skserve-requirements.sha256" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$challenge/.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$challenge"
    "$repo/target/sk1.9-venv/bin/python" "$here/make_challenge.py" "$challenge" >&2
    echo "$stamp" > "$challenge/.stamp"
fi
echo "$out"
