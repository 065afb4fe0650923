#!/usr/bin/env bash
# Makes sure the estimator matrix exists for every scikit-learn version it covers, fitted in
# the Pipeline matrix's venvs (tests/python/pipelines/ensure_pipelines.sh makes them), and
# prints the directory holding one matrix per version.
#
#   tests/python/estimators/ensure_estimators.sh   -> target/sk-estimators (sk1.1/, sk1.3/, sk1.9/)
#
# A matrix is remade only when its generator, the Pipeline generator it shares containers
# with, or its venv changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out="$repo/target/sk-estimators"
bash "$repo/tests/python/pipelines/ensure_pipelines.sh" >/dev/null
mkdir -p "$out"
for version in 1.1 1.3 1.9; do
    venv="$repo/target/sk$version-venv"
    matrix="$out/sk$version"
    stamp=$(cat "$here/make_estimators.py" "$here/../pipelines/make_pipelines.py" "$venv/.skserve-requirements.sha256" | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$matrix/.stamp" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$matrix"
        "$venv/bin/python" "$here/make_estimators.py" "$matrix" >&2
        echo "$stamp" > "$matrix/.stamp"
    fi
done
echo "$out"
