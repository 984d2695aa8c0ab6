#!/usr/bin/env python3
"""Turns the RELIABILITY lines of a reliability run into docs/reliability.md (used by
scripts/reliability.sh): a table per case, the machine, the command and the wall time."""
import datetime, os, re, shlex, subprocess, sys

log_path, seconds, status = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# Without the terminal colours swift-testing may add.
raw = [re.sub(r"\x1b\[[0-9;]*m", "", l).rstrip("\n") for l in open(log_path, encoding="utf-8", errors="replace")]
lines = [l for l in raw if l.startswith("RELIABILITY ")]
results = [l for l in raw if re.match(r"^[✔✘━] (Test|Suite) ", l)]


def run(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return "?"


memory = run("free -g | awk '/Mem:/ {print $2}'")
machine = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "cores (nproc)": run("nproc"),
    "memory": f"{memory} GiB",
    "Swift": run("swift --version 2>&1 | head -n1"),
    "kernel": run("uname -sr"),
    "build": "debug",
}

# case -> list of rows (each a list of (key, value)); detail lines ("RELIABILITY case item k=v") keep the item.
cases = {}
for line in lines:
    body = line[len("RELIABILITY "):]
    m = re.match(r"^(\S+?):\s(.*)$", body)
    if m:
        name, rest, item = m.group(1), m.group(2), None
    else:
        name, _, rest = body.partition(" ")
        item, _, rest = rest.partition(" ")
    pairs = []
    for token in shlex.split(rest):
        key, _, value = token.partition("=")
        pairs.append((key, value))
    if item is not None:
        pairs.insert(0, ("webhook", item))
    cases.setdefault(name + (" (per webhook)" if item else ""), []).append(pairs)

out = []
out.append("# Reliability\n")
out.append("The delivery guarantees under faults (issue 7, DESIGN.md §5, §7, §10): the suites named `Reliability…` in")
out.append("`Tests/WebhookBridgeTests/Reliability*.swift`. Each case prints one `RELIABILITY <case>: key=value …` line;")
out.append("`scripts/reliability.sh` runs them at full size (`RELIABILITY_FULL=1`) and rewrites this file. `make test`")
out.append("runs the same tests at smoke sizes (3,000 events and 2 kills instead of 50,000 and 10, 1,000 fuzzed records")
out.append("instead of 10,000, …).\n")
out.append("```sh")
out.append("scripts/reliability.sh")
out.append("# which runs, after swift build --build-tests:")
out.append("RELIABILITY_FULL=1 .build/x86_64-unknown-linux-gnu/debug/webhook-bridgePackageTests.xctest --testing-library swift-testing --filter Reliability")
out.append("```\n")
out.append(f"Last run: exit status {status}, wall time {seconds // 60} min {seconds % 60} s (the test run itself, after the build).\n")
out.append("| machine | |\n| --- | --- |")
for key, value in machine.items():
    out.append(f"| {key} | {value} |")
out.append("")
for name, rows in cases.items():
    keys = []
    for row in rows:
        for key, _ in row:
            if key not in keys:
                keys.append(key)
    out.append(f"## {name}\n")
    out.append("| " + " | ".join(keys) + " |")
    out.append("| " + " | ".join("---" for _ in keys) + " |")
    for row in rows:
        values = dict(row)
        out.append("| " + " | ".join(values.get(k, "").replace("|", "\\|") for k in keys) + " |")
    out.append("")
out.append("## Test results\n")
out.append("```")
out.extend(r[:220] for r in results)
out.append("```\n")
out.append("## The RELIABILITY lines as printed\n")
out.append("```")
out.extend(lines)
out.append("```")
notes = "docs/reliability-notes.md"
if os.path.exists(notes):
    out.append("")
    out.append(open(notes, encoding="utf-8").read().rstrip("\n"))
print("\n".join(out))
