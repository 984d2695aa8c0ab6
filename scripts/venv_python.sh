#!/usr/bin/env bash
# Runs Python in a virtualenv with the given PyPI requirements, made on first use and shared by
# test processes running at once (the test helpers' reference implementations: fastavro, the
# CloudEvents SDK).
#
#   scripts/venv_python.sh NAME REQUIREMENT... -- PYTHON-ARGS...
#
#   The virtualenv is ${TMPDIR:-/tmp}/webhook-bridge-NAME-venv (or $VENV_DIR); PYTHON (python3,
#   with venv: scripts/setup.sh installs it) creates it. Needs PyPI on first use; progress and
#   errors go to stderr.
set -euo pipefail

name=$1
shift
requirements=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do requirements+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
venv=${VENV_DIR:-${TMPDIR:-/tmp}/webhook-bridge-$name-venv}

exec 9>"$venv.lock"
flock 9
if [ "$(cat "$venv/requirements" 2>/dev/null)" != "${requirements[*]}" ]; then
  echo "venv_python: installing ${requirements[*]} into $venv" >&2
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}" >&2
  echo "${requirements[*]}" > "$venv/requirements"
fi
flock -u 9

exec "$venv/bin/python" "$@"
