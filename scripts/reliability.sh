#!/usr/bin/env bash
# The reliability suites (issue 7) at full size: builds the tests, runs every suite named
# Reliability… (RELIABILITY_FULL=1: 50,000 events and 10 kill -9 restarts, 10,000 fuzzed records,
# ...), and writes their RELIABILITY lines, the machine and the wall time into docs/reliability.md.
# `make test` runs the same tests at smoke sizes.
set -uo pipefail
cd "$(dirname "$0")/.."

swift build --build-tests || exit 1
xctest="$(swift build --show-bin-path)/webhook-bridgePackageTests.xctest"
log=.build/reliability.log

start=$(date +%s)
RELIABILITY_FULL=1 "$xctest" --testing-library swift-testing --filter Reliability 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
seconds=$(( $(date +%s) - start ))

python3 scripts/reliability_report.py "$log" "$seconds" "$status" > docs/reliability.md
echo "reliability: exit $status after ${seconds}s; docs/reliability.md written"
exit "$status"
