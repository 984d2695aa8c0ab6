#!/usr/bin/env bash
# The reliability suites (issue 7) at full size: builds the tests, runs every suite named
# Reliability… (RELIABILITY_FULL=1: 50,000 events and 10 kill -9 restarts, 10,000 fuzzed records,
# ...) and the schemathesis fuzzing of the admin API (Reliability/fuzz_admin_api.sh), and writes
# their RELIABILITY lines, the machine and the wall time into docs/reliability.md.
# `make test` runs the same tests at smoke sizes.
set -uo pipefail
cd "$(dirname "$0")/.."

swift build --build-tests || exit 1
xctest="$(swift build --show-bin-path)/webhook-bridgePackageTests.xctest"
log=.build/reliability.log

start=$(date +%s)
RELIABILITY_FULL=1 "$xctest" --testing-library swift-testing --filter Reliability 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The admin API fuzzed from its OpenAPI document (schemathesis, installed from PyPI into a venv).
fuzz=$(bash Reliability/fuzz_admin_api.sh "$(swift build --show-bin-path)/webhook-bridge" 2>&1 | tee -a "$log" | grep '^FUZZ:' || true)
echo "RELIABILITY schemathesis: ${fuzz#FUZZ: }" >> "$log"
case "$fuzz" in *"failures=0 crashed=no secrets_in_log=0"*) ;; *) status=1 ;; esac
seconds=$(( $(date +%s) - start ))

python3 scripts/reliability_report.py "$log" "$seconds" "$status" > docs/reliability.md
echo "reliability: exit $status after ${seconds}s; docs/reliability.md written"
exit "$status"
