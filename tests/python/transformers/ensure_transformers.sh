#!/usr/bin/env bash
# Makes sure the text, transformer and preprocessing matrices exist for every scikit-learn version they
# cover, fitted in the Pipeline matrix's venvs (tests/python/pipelines/ensure_pipelines.sh
# makes them), and prints the directory holding them.
#
#   tests/python/transformers/ensure_transformers.sh
#       -> target/sk-transformers (text/sk1.1, text/sk1.3, text/sk1.9, dicts/sk1.1, dense/sk1.1, prep/sk1.1, …,
#          decomposition/sk1.1, …, projection/sk1.9, spline/sk1.1, …)
#
# A matrix is remade only when its generator, the text documents, the shared writer or its
# venv changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out="$repo/target/sk-transformers"
bash "$repo/tests/python/pipelines/ensure_pipelines.sh" >/dev/null
for family in text dicts dense prep decomposition projection spline; do
    case $family in
        text) generator="$repo/tests/python/text/make_text.py" ;;
        dicts) generator="$repo/tests/python/text/make_dicts.py" ;;
        dense) generator="$here/make_transformers.py" ;;
        prep) generator="$here/make_preprocessing.py" ;;
        decomposition) generator="$here/make_decomposition.py" ;;
        projection) generator="$here/make_projections.py" ;;
        spline) generator="$here/make_splines.py" ;;
    esac
    mkdir -p "$out/$family"
    for version in 1.1 1.3 1.9; do
        venv="$repo/target/sk$version-venv"
        matrix="$out/$family/sk$version"
        stamp=$(cat "$generator" "$repo/tests/python/text/make_text.py" "$here/make_transformers.py" "$here/matrix.py" "$venv/.skserve-requirements.sha256" | sha256sum | cut -d' ' -f1)
        if [ "$(cat "$matrix/.stamp" 2>/dev/null)" != "$stamp" ]; then
            rm -rf "$matrix"
            "$venv/bin/python" "$generator" "$matrix" >&2
            echo "$stamp" > "$matrix/.stamp"
        fi
    done
done
echo "$out"
