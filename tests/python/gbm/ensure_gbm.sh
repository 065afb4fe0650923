#!/usr/bin/env bash
# Makes sure the XGBoost and LightGBM matrices exist, one per pair of versions, each fitted in
# a venv of its own, and prints the directory holding them.
#
#   tests/python/gbm/ensure_gbm.sh   -> target/gbm (old/: XGBoost 1.7, LightGBM 3.3;
#                                       mid/: XGBoost 2.1, LightGBM 4.5; new/: the newest 3.x, 4.x)
#
# Venvs: target/gbm-{old,mid,new}-venv (Python 3.11; requirements-gbm-*.txt beside this
# script). A matrix is remade only when its generator or its venv changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out="$repo/target/gbm"
export PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || { echo "ensure_gbm.sh: $PYTHON is needed (the pinned wheels are built for Python 3.11)" >&2; exit 1; }
mkdir -p "$out"
for pair in old mid new; do
    venv="$repo/target/gbm-$pair-venv"
    bash "$repo/tests/python/setup_venv.sh" "$venv" "$here/requirements-gbm-$pair.txt" xgboost,lightgbm,sklearn,pandas >&2
    matrix="$out/$pair"
    stamp=$(cat "$here/make_gbm.py" "$venv/.skserve-requirements.sha256" | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$matrix/.stamp" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$matrix"
        OMP_NUM_THREADS=1 "$venv/bin/python" -W ignore "$here/make_gbm.py" "$matrix" >&2
        echo "$stamp" > "$matrix/.stamp"
    fi
done
echo "$out"
