#!/usr/bin/env bash
# The add pipeline with kfp.local and with skiff, in one run; prints both times and the ratio.
# Needs network access to PyPI once (kfp into target/bench-venv) and the python runtime (found or
# downloaded by skiff, compiled once).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'kfp==2.17.0'
fi
cargo build --release --locked -p skiff --bin skiff
pipeline="${SKIFF_CONFORMANCE_DIR:-../shared/conformance}/kfp/v2/add_pipeline_v2.yaml"
# One warm-up run: the first python step of a fresh home compiles the runtime.
target/release/skiff submit "$pipeline" --wait -o name >/dev/null
"$venv/bin/python" benches/kfp_add.py target/release/skiff "$pipeline"
