#!/usr/bin/env bash
# Runs scripts/avro_fixtures.py (Avro test cases written by fastavro, the reference
# implementation) in a virtualenv with fastavro, made on first use; prints the cases as JSON.
# Tests/AvroTests runs it; by hand:
#
#   scripts/avro_fixtures.sh [SEED] > cases.json
#
# AVRO_VENV names the virtualenv (see scripts/venv_python.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${AVRO_VENV:-}" ]; then export VENV_DIR=$AVRO_VENV; fi
exec "$root/scripts/venv_python.sh" avro "fastavro==1.13.1" -- "$root/scripts/avro_fixtures.py" "$@"
