#!/usr/bin/env bash
# Makes sure the skops matrix exists: every model of the Pipeline and tree matrices written by
# skops 0.6 (scikit-learn 1.1), 0.10 (1.3) and the newest skops (1.9), each in a venv of the
# scikit-learn that fitted the pickles, and prints the directory holding them.
#
#   tests/python/skops/ensure_skops.sh   -> target/sk-skops (pipelines/sk1.1/, …, trees/sk1.9/)
#
# Venvs: target/skops<version>-venv, filled from the scikit-learn version's pins
# (tests/python/pipelines/requirements-sk*.txt) and this directory's skops pin. A matrix is
# remade only when its generator, its pickle matrix or its venv changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out="$repo/target/sk-skops"
export PYTHON="${PYTHON:-python3.11}"
pipelines=$(bash "$repo/tests/python/pipelines/ensure_pipelines.sh")
trees=$(bash "$repo/tests/python/trees/ensure_trees.sh")
mkdir -p "$out/requirements"
for pair in 0.6:1.1 0.10:1.3 newest:1.9; do
    skops=${pair%%:*} sklearn=${pair##*:}
    requirements="$out/requirements/skops$skops.txt"
    cat "$repo/tests/python/pipelines/requirements-sk$sklearn.txt" "$here/requirements-skops$skops.txt" > "$requirements"
    venv="$repo/target/skops$skops-venv"
    bash "$repo/tests/python/setup_venv.sh" "$venv" "$requirements" sklearn,numpy,pandas,skops >&2
    for kind in pipelines trees; do
        if [ "$kind" = pipelines ]; then source_dir="$pipelines/sk$sklearn"; else source_dir="$trees/sk$sklearn"; fi
        matrix="$out/$kind/sk$sklearn"
        stamp=$(cat "$here/make_skops.py" "$source_dir/.stamp" "$venv/.skserve-requirements.sha256" | sha256sum | cut -d' ' -f1)
        if [ "$(cat "$matrix/.stamp" 2>/dev/null)" != "$stamp" ]; then
            rm -rf "$matrix"
            "$venv/bin/python" "$here/make_skops.py" "$source_dir" "$matrix" >&2
            echo "$stamp" > "$matrix/.stamp"
        fi
    done
done
echo "$out"
