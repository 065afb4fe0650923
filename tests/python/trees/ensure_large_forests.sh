#!/usr/bin/env bash
# Makes sure the two forests sized against the default loading budget exist, fitted by
# scikit-learn 1.9 (the Pipeline matrix's venv, tests/python/pipelines/ensure_pipelines.sh),
# and prints their directory. Remade only when the generator or the venv changes.
#
#   tests/python/trees/ensure_large_forests.sh   -> target/sk-large-forests
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out="$repo/target/sk-large-forests"
bash "$repo/tests/python/pipelines/ensure_pipelines.sh" >/dev/null
venv="$repo/target/sk1.9-venv"
stamp=$(cat "$here/make_large_forests.py" "$venv/.skserve-requirements.sha256" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$out/.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$out"
    "$venv/bin/python" "$here/make_large_forests.py" "$out" >&2
    echo "$stamp" > "$out/.stamp"
fi
echo "$out"
