#!/usr/bin/env bash
# Makes sure the matrix of KNNImputer, KernelDensity, FeatureAgglomeration, Isomap and
# LocallyLinearEmbedding exists for every scikit-learn version it covers, fitted in the
# Pipeline matrix's venvs (tests/python/pipelines/ensure_pipelines.sh makes them), and prints
# the directory holding one matrix per version.
#
#   tests/python/manifold/ensure_manifold.sh   -> target/sk-manifold (sk1.1/, sk1.3/, sk1.9/)
#
# A matrix is remade only when its generator, the generators it borrows from, or its venv
# changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out="$repo/target/sk-manifold"
bash "$repo/tests/python/pipelines/ensure_pipelines.sh" >/dev/null
mkdir -p "$out"
for version in 1.1 1.3 1.9; do
    venv="$repo/target/sk$version-venv"
    matrix="$out/sk$version"
    stamp=$(cat "$here/make_manifold.py" "$here/../families/make_families.py" "$here/../pipelines/make_pipelines.py" "$venv/.skserve-requirements.sha256" | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$matrix/.stamp" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$matrix"
        "$venv/bin/python" "$here/make_manifold.py" "$matrix" >&2
        echo "$stamp" > "$matrix/.stamp"
    fi
done
echo "$out"
