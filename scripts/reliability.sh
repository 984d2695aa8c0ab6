#!/usr/bin/env bash
# The reliability suite at full size (issue 7): builds the tests, runs the suites named
# "Reliability…" with their full sizes, and writes their RELIABILITY lines to docs/reliability.md.
# The normal test run (`make test`) runs the same tests at smoke sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
log=$(mktemp)
start=$(date +%s)
RELIABILITY_FUZZ_RECORDS=10000 RELIABILITY_KILL_EVENTS=50000 RELIABILITY_KILLS=10 .build/x86_64-unknown-linux-gnu/debug/webhook-bridgePackageTests.xctest \
  --testing-library swift-testing --filter Reliability 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
seconds=$(( $(date +%s) - start ))
{
  sed -n '1,/<!-- reliability:begin -->/p' docs/reliability.md
  echo "Run of $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo),"
  echo "$(swift --version 2>/dev/null | head -1); exit status $status; ${seconds} s. Command: \`scripts/reliability.sh\`."
  echo
  echo '```'
  grep -a '^RELIABILITY' "$log" || echo "(no RELIABILITY lines)"
  echo '```'
  sed -n '/<!-- reliability:end -->/,$p' docs/reliability.md
} > docs/reliability.md.new
mv docs/reliability.md.new docs/reliability.md
rm -f "$log"
exit "$status"
