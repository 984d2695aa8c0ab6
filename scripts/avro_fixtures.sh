#!/usr/bin/env bash
# Runs scripts/avro_fixtures.py (Avro test cases written by fastavro, the reference
# implementation) in a virtualenv with fastavro, made on first use; prints the cases as JSON.
# Tests/AvroTests runs it; by hand:
#
#   scripts/avro_fixtures.sh [SEED] > cases.json
#
#   AVRO_VENV  the virtualenv (${TMPDIR:-/tmp}/webhook-bridge-avro-venv)
#   PYTHON     the interpreter that creates it (python3, with venv: scripts/setup.sh installs it)
# Needs PyPI on first use. Progress and errors go to stderr.
set -euo pipefail

FASTAVRO_VERSION=1.13.1

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${AVRO_VENV:-${TMPDIR:-/tmp}/webhook-bridge-avro-venv}

# Test processes running at once share the virtualenv: one makes it, the others wait.
exec 9>"$venv.lock"
flock 9
if [ "$("$venv/bin/python" -c 'import fastavro; print(fastavro.__version__)' 2>/dev/null)" != "$FASTAVRO_VERSION" ]; then
  echo "avro_fixtures: installing fastavro $FASTAVRO_VERSION into $venv" >&2
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "fastavro==$FASTAVRO_VERSION" >&2
fi
flock -u 9

exec "$venv/bin/python" "$root/scripts/avro_fixtures.py" "$@"
