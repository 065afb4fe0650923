#!/usr/bin/env bash
# Makes sure the tree matrix exists for every scikit-learn version it covers, fitted in the
# Pipeline matrix's venvs (tests/python/pipelines/ensure_pipelines.sh makes them), and prints
# the directory holding one matrix per version.
#
#   tests/python/trees/ensure_trees.sh   -> target/sk-trees (sk1.1/, sk1.3/, sk1.9/, shap.json)
#
# A matrix is remade only when its generator, the Pipeline generator it shares data with, or
# its venv changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out="$repo/target/sk-trees"
bash "$repo/tests/python/pipelines/ensure_pipelines.sh" >/dev/null
mkdir -p "$out"
for version in 1.1 1.3 1.9; do
    venv="$repo/target/sk$version-venv"
    matrix="$out/sk$version"
    stamp=$(cat "$here/make_trees.py" "$here/../pipelines/make_pipelines.py" "$venv/.skserve-requirements.sha256" | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$matrix/.stamp" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$matrix"
        "$venv/bin/python" "$here/make_trees.py" "$matrix" >&2
        echo "$stamp" > "$matrix/.stamp"
    fi
done
# shap's TreeExplainer on the 1.9 matrix, in a venv of its own (shap and its numba).
shap_venv="$repo/target/shap-venv"
bash "$repo/tests/python/setup_venv.sh" "$shap_venv" "$here/requirements-shap.txt" >&2
stamp=$(cat "$here/make_shap.py" "$out/sk1.9/.stamp" "$shap_venv/.skserve-requirements.sha256" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$out/shap.stamp" 2>/dev/null)" != "$stamp" ]; then
    "$shap_venv/bin/python" "$here/make_shap.py" "$out/sk1.9" "$out/shap.json" >&2
    echo "$stamp" > "$out/shap.stamp"
fi
echo "$out"
