#!/usr/bin/env bash
# Makes sure the census of scikit-learn 1.9's estimators exists, fitted in the Pipeline
# matrix's 1.9 venv (tests/python/pipelines/ensure_pipelines.sh makes it), and prints its
# directory. It is remade only when its generator, the estimator and meta generators it borrows from,
# or the venv changes.
#
#   tests/python/census/ensure_census.sh   -> target/census/sk1.9
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
bash "$repo/tests/python/pipelines/ensure_pipelines.sh" >/dev/null
venv="$repo/target/sk1.9-venv"
out="$repo/target/census/sk1.9"
stamp=$(cat "$here/make_census.py" "$here/../estimators/make_estimators.py" "$here/../meta/make_meta.py" "$venv/.skserve-requirements.sha256" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$out/.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$out"
    "$venv/bin/python" "$here/make_census.py" "$out" >&2
    echo "$stamp" > "$out/.stamp"
fi
echo "$out"
