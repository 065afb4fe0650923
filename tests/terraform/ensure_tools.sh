#!/usr/bin/env bash
# Installs what the Terraform checks of tests/api/terraform.rs need, under target/:
#   target/provider-schema   the npm package @cdktf/provider-google (its .jsii is the google
#                            provider's schema, read by check_schema.py)
#   target/checkov-venv      checkov from PyPI
# Idempotent: a second run with nothing changed returns at once. Used by tests/run.sh.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/tests/terraform"

# 16.12.1 is generated from google provider 6.50.0, which versions.tf's "~> 6.14" admits
# (check_schema.py checks that too).
schema_package="@cdktf/provider-google@16.12.1"
schema_dir="$repo/target/provider-schema"
jsii="$schema_dir/node_modules/@cdktf/provider-google/.jsii"
if [ "$(cat "$schema_dir/.installed" 2>/dev/null)" != "$schema_package" ] || [ ! -f "$jsii" ]; then
    command -v npm >/dev/null 2>&1 || { echo "ensure_tools.sh: npm is missing" >&2; exit 1; }
    echo "ensure_tools.sh: installing $schema_package into $schema_dir" >&2
    mkdir -p "$schema_dir"
    # Only the type information is read: no peer dependencies, no install scripts.
    npm install --prefix "$schema_dir" --no-save --no-audit --no-fund --ignore-scripts \
        --legacy-peer-deps --loglevel=error "$schema_package" >&2
    [ -f "$jsii" ] || { echo "ensure_tools.sh: $jsii is missing after npm install" >&2; exit 1; }
    echo "$schema_package" > "$schema_dir/.installed"
fi

# checkov's venv, filled like every test venv (idempotent: a stamp records the requirements).
bash "$repo/tests/python/setup_venv.sh" "$repo/target/checkov-venv" "$here/requirements.txt" checkov
