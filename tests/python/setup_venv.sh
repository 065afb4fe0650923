#!/usr/bin/env bash
# Create (or update) a Python venv for the test-data scripts.
#
#   tests/python/setup_venv.sh VENV_DIR [REQUIREMENTS_FILE [IMPORTS]]
#
# REQUIREMENTS_FILE defaults to tests/python/requirements.txt; IMPORTS (comma-separated
# modules the venv must import once installed) to sklearn,numpy,scipy,joblib.  The interpreter
# used to create the venv is $PYTHON (default: python3).  Idempotent: a stamp
# file inside the venv records the hash of the requirements file (and of the
# interpreter version), so a second run with unchanged requirements returns at
# once.
set -euo pipefail

die() { echo "setup_venv.sh: error: $*" >&2; exit 1; }

[ $# -ge 1 ] && [ $# -le 3 ] || die "usage: $0 VENV_DIR [REQUIREMENTS_FILE [IMPORTS]]"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$1"
req="${2:-$here/requirements.txt}"
imports="${3:-sklearn,numpy,scipy,joblib}"
python="${PYTHON:-python3}"

[ -f "$req" ] || die "requirements file not found: $req"
command -v "$python" >/dev/null 2>&1 || die "interpreter not found: $python (set \$PYTHON)"

hash_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum | cut -d' ' -f1
    else
        shasum -a 256 | cut -d' ' -f1
    fi
}

py_version="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')" \
    || die "cannot run $python"
want="$( { cat "$req"; echo "python=$py_version"; } | hash_of)"
stamp="$venv/.skserve-requirements.sha256"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "setup_venv.sh: creating $venv with $python ($py_version)" >&2
    "$python" -m venv "$venv" || die "'$python -m venv $venv' failed (is the venv module installed?)"
fi

# uv installs from the same index and pins as pip, several times faster (tests/python/ensure_uv.sh).
uv="$(bash "$here/ensure_uv.sh")" || die "uv could not be installed (see above)"
echo "setup_venv.sh: installing $(basename "$req") into $venv" >&2
"$uv" pip install --quiet --python "$venv/bin/python" -r "$req" \
    || die "installing $req failed (see uv's output above)"
"$venv/bin/python" -c "import $imports" \
    || die "the venv at $venv cannot import $imports"

echo "$want" > "$stamp"
