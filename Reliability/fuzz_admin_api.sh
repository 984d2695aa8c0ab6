#!/usr/bin/env bash
# Fuzzes the admin API with schemathesis against its own /openapi.yaml: no 5xx, responses as
# documented, auth enforced, no crash, no secret in the log.
#
#   Reliability/fuzz_admin_api.sh [EXECUTABLE]
#
# EXECUTABLE (or $WEBHOOK_BRIDGE) defaults to .build/release/webhook-bridge if present, else
# .build/debug/webhook-bridge. It is copied first, so a build running meanwhile cannot replace it.
# The bridge runs with an embedded broker on a free loopback port. Other settings:
#   FUZZ_EXAMPLES  test cases per operation and phase (100)
#   FUZZ_SEED      schemathesis seed, to repeat a run (random; the run prints it)
#   FUZZ_CHECKS    the checks (see CHECKS below)
#   FUZZ_VENV      the virtualenv with schemathesis (${TMPDIR:-/tmp}/webhook-bridge-fuzz-venv)
#   PYTHON         the interpreter that creates it (python3, 3.9 or newer, with venv and pip)
# Prints one line `FUZZ: operations=N examples=M failures=F crashed=yes|no secrets_in_log=S`
# and exits non-zero on any failure. The work directory (bridge log, config, JSON report) is
# removed after a clean run and kept, with its path printed, otherwise.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
TOKEN=fuzz-site-token-5b0c9e3f
HASH_KEY=fuzz-hash-key-5b0c9e3f
EXAMPLES=${FUZZ_EXAMPLES:-100}
# Checks that a correct server passes with this document. Left out on purpose:
# - positive_data_acceptance: a schema-valid body can still be refused with 400 (unknown topic,
#   a URL that is not public http(s), retries_until_failure beyond retry_intervals);
# - negative_data_rejection: optional fields given as null read as absent, an empty body as {};
# - missing_required_header: the token may come in the body instead of Authorization, and a
#   malformed field is a 400 before the missing token is a 401;
# - unsupported_method: the router answers 404, not 405, to a method a path does not have.
CHECKS=${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,ignored_auth,use_after_free,ensure_resource_availability}

root=$(cd "$(dirname "$0")/.." && pwd)
executable=${1:-${WEBHOOK_BRIDGE:-}}
if [ -z "$executable" ]; then
  executable=$root/.build/release/webhook-bridge
  [ -x "$executable" ] || executable=$root/.build/debug/webhook-bridge
fi
[ -x "$executable" ] || { echo "fuzz: no executable at $executable (build first, or pass its path)" >&2; exit 2; }

venv=${FUZZ_VENV:-${TMPDIR:-/tmp}/webhook-bridge-fuzz-venv}
if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" != "$SCHEMATHESIS_VERSION" ]; then
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-admin-api.XXXXXX")
bridge_pid=""
bridge_exit=""
clean=no
# SIGTERM, then SIGKILL after 20 s; bridge_exit is the exit status (0: a graceful stop).
stop_bridge() {
  [ -n "$bridge_pid" ] || return 0
  kill -TERM "$bridge_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$bridge_pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$bridge_pid" 2>/dev/null || true
  bridge_exit=0
  wait "$bridge_pid" 2>/dev/null || bridge_exit=$?
  bridge_pid=""
}
finish() {
  stop_bridge
  if [ "$clean" = yes ]; then rm -rf "$work"; else echo "fuzz: logs and report kept in $work" >&2; fi
}
trap finish EXIT
trap 'exit 130' INT TERM

cp "$executable" "$work/webhook-bridge"
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port

cat > "$work/bridge.yaml" <<EOF
kafka:
  bootstrap_servers: embedded
  group_id: fuzz
  start_from: earliest
http:
  admin_listen: 127.0.0.1:$port
  allow_private_destinations: false
  # ignored_auth sends tokens that match no site: do not let the limit refuse the rest.
  auth_failures_per_minute: 1000000
sites:
  - id: c404
    token: $TOKEN
routes:
  - {source: oms.orders, site: c404, topic: order_state_changed}
webhooks:
  - {id: hook, site: c404, url: "https://example.com/hooks", topics: [order_state_changed], hash_key: $HASH_KEY}
logging:
  level: info
EOF

# The site's id for the path parameter; webhook ids are learned from responses and links.
cat > "$work/schemathesis.toml" <<'EOF'
[parameters]
"path.site_id" = "c404"
EOF

cat > "$work/fuzz_hooks.py" <<'EOF'
import itertools

import schemathesis

SITE = "c404"
_turn = itertools.count()


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    """Steers generated bodies past the checks random data almost never passes.

    A string site_id becomes the fuzz site and a string token is dropped (the Authorization
    header authenticates), else nearly every request ends in 403. Every other request that
    creates or changes a webhook gets a known topic and a public URL, so the success paths are
    fuzzed too; the rest keep the generated values. Values of other types are left alone.
    """
    body = case.body
    if not isinstance(body, dict):
        return
    for fields in (body, body.get("configuration")):
        if isinstance(fields, dict):
            if isinstance(fields.get("site_id"), str):
                fields["site_id"] = SITE
            if isinstance(fields.get("token"), str):
                del fields["token"]
    if next(_turn) % 2:
        return
    for fields in (body, body.get("webhook")):
        if isinstance(fields, dict):
            if isinstance(fields.get("topics"), list):
                fields["topics"] = ["order_state_changed"]
            if isinstance(fields.get("url"), str):
                fields["url"] = "https://example.com/fuzz"
EOF

"$work/webhook-bridge" run --config "$work/bridge.yaml" > "$work/bridge.log" 2>&1 &
bridge_pid=$!
ready=no
for _ in $(seq 120); do
  kill -0 "$bridge_pid" 2>/dev/null || break
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/ready" || true)" = 200 ]; then ready=yes; break; fi
  sleep 0.5
done
if [ "$ready" != yes ]; then
  echo "fuzz: the bridge did not become ready; its log:" >&2
  tail -n 40 "$work/bridge.log" >&2
  exit 1
fi

command=("$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$base/openapi.yaml"
  --header "Authorization: Bearer $TOKEN" --checks "$CHECKS" --max-examples "$EXAMPLES"
  --phases examples,coverage,fuzzing,stateful --continue-on-failure --workers 1 --request-timeout 30
  --generation-database none --report json --report-json-path "$work/report.json" --no-color)
[ -n "${FUZZ_SEED:-}" ] && command+=(--seed "$FUZZ_SEED")
echo "fuzz: $(printf '%q ' "${command[@]}" | sed "s/$TOKEN/<token>/g")" >&2
start=$(date +%s)
set +e
(cd "$work" && PYTHONPATH="$work" SCHEMATHESIS_HOOKS=fuzz_hooks timeout 1800 "${command[@]}")
schemathesis_status=$?
set -e
seconds=$(( $(date +%s) - start ))

crashed=no
if ! kill -0 "$bridge_pid" 2>/dev/null || [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health" || true)" != 200 ]; then
  crashed=yes
fi
grep -aq 'Fatal error' "$work/bridge.log" && crashed=yes
secrets=0
for secret in "$TOKEN" "$HASH_KEY" whsec_; do
  secrets=$(( secrets + $(grep -acF -- "$secret" "$work/bridge.log" || true) ))
done

read -r operations examples failures < <("$venv/bin/python" - "$work/report.json" <<'EOF'
import json, sys
try:
    report = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print(0, 0, 1)
    sys.exit()
cases = report["test_cases"]
errors = sum(error.get("count", 1) for error in report.get("errors", []))
print(report["operations"]["tested"], cases["generated"], cases["unique_failures"] + errors)
EOF
)

if [ "$crashed" = yes ]; then
  echo "fuzz: the bridge crashed; from its log:" >&2
  grep -a -A3 'Fatal error' "$work/bridge.log" >&2 || tail -n 20 "$work/bridge.log" >&2
  grep -a ' at /.*/Sources/' "$work/bridge.log" | grep -v '/\.build/' | head -n 8 >&2 || true
fi
stop_bridge
if [ "$crashed" = no ] && [ "$bridge_exit" != 0 ]; then
  echo "fuzz: the bridge did not stop cleanly on SIGTERM (exit status $bridge_exit)" >&2
  crashed=yes
fi
echo "FUZZ: operations=$operations examples=$examples failures=$failures crashed=$crashed secrets_in_log=$secrets seconds=$seconds"
if [ "$schemathesis_status" -ne 0 ] || [ "$failures" -ne 0 ] || [ "$crashed" = yes ] || [ "$secrets" -ne 0 ]; then
  exit 1
fi
clean=yes
