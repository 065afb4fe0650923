#!/usr/bin/env bash
# Copies a few real skops archives out of the skops matrix into tests/fixtures/skops_seeds
# (checked in): the quick tier's hostile archives are edits of them, and the fuzzer starts from
# them. One per protocol and per kind of state (a ColumnTransformer Pipeline, a tree, a
# HistGradientBoosting model with its partial, random generator and losses).
#
#   tests/python/skops/make_seeds.sh [SKOPS_MATRIX_DIR]   (default: what ensure_skops.sh makes)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
matrix=${1:-$(bash "$here/ensure_skops.sh")}
seeds="$repo/tests/fixtures/skops_seeds"
mkdir -p "$seeds"
copy() { cp "$matrix/$1" "$seeds/$2"; }
copy pipelines/sk1.9/models/ct_ohe_logistic__skops-deflated.skops pipeline_ct_ohe_logistic__skops-newest.skops
copy pipelines/sk1.1/models/numeric_nested_pipeline_logistic__skops.skops pipeline_numeric_nested_logistic__skops0.6.skops
copy trees/sk1.3/models/decision_tree_multi__skops.skops decision_tree_multi__skops0.10.skops
copy trees/sk1.9/models/hist_gradient_boosting_binary__skops-deflated.skops hist_gradient_boosting_binary__skops-newest.skops
ls -l "$seeds"
