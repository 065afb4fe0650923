#!/usr/bin/env bash
# Makes sure the models trained as a user trains them exist (make_user_models.py: XGBoost on a
# DataFrame with a categorical column, LightGBM after a ColumnTransformer and on its own, a
# skops archive of a Pipeline; two versions of each file, and the libraries' own answers), and
# prints the directory holding them.
#
#   tests/python/gbm/ensure_user_models.sh   -> target/gbm-user
#
# Venv: target/gbm-user-venv (Python 3.11; requirements-gbm-user.txt beside this script). The
# models are remade only when the generator or the venv changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out="$repo/target/gbm-user"
export PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || { echo "ensure_user_models.sh: $PYTHON is needed" >&2; exit 1; }
venv="$repo/target/gbm-user-venv"
bash "$repo/tests/python/setup_venv.sh" "$venv" "$here/requirements-gbm-user.txt" xgboost,lightgbm,sklearn,pandas,skops >&2
stamp=$(cat "$here/make_user_models.py" "$venv/.skserve-requirements.sha256" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$out/.stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$out"
    OMP_NUM_THREADS=1 "$venv/bin/python" -W ignore "$here/make_user_models.py" "$out" >&2
    echo "$stamp" > "$out/.stamp"
fi
echo "$out"
