#!/usr/bin/env bash
# Makes sure uv (PyPI) is installed under target/uv-venv and prints the path of its binary.
# Every test venv is filled by uv rather than pip: from the same index and the same pins, it
# installs several times faster (scikit-learn 1.3's venv with a cold cache: 23 s against
# pip's 117 s on the 2-core machine), which a fresh clone's suite feels six times over.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
version="uv==0.13.9"
venv="$repo/target/uv-venv"
uv="$venv/bin/uv"
if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$version" ] || [ ! -x "$uv" ]; then
    echo "ensure_uv.sh: installing $version into $venv" >&2
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv" \
        || { echo "ensure_uv.sh: 'python3 -m venv' failed (is the venv module installed?)" >&2; exit 1; }
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$version" >&2
    "$uv" --version >/dev/null
    echo "$version" > "$venv/.installed"
fi
echo "$uv"
