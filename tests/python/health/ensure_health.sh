#!/usr/bin/env bash
# Makes sure the venv of model health's statistics tests exists (Evidently and scipy from
# PyPI) and prints its python. Used by tests/api/health_stats.rs and tests/run.sh.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
venv="$repo/target/health-venv"
bash "$repo/tests/python/setup_venv.sh" "$venv" "$repo/tests/python/health/requirements.txt" \
    evidently,scipy,numpy,pandas >&2
echo "$venv/bin/python"
