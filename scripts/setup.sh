#!/usr/bin/env bash
# Installs the system packages webhook-bridge builds, tests and benchmarks with, on Debian.
# Safe to run again: it only installs what is missing.
set -euo pipefail

packages=(
  librdkafka-dev      # the Kafka client library (and its mock cluster, the embedded broker)
  libssl-dev          # TLS for the HTTP client and SMTP
  pkg-config          # lets SwiftPM find librdkafka
  kcat                # an external Kafka client, used by tests against dev-broker
  python3             # test helpers
  python3-venv        # the Avro tests' virtualenv with fastavro from PyPI (scripts/avro_fixtures.sh)
  python3-aiosmtpd    # the real SMTP server the alert tests talk to
  python3-confluent-kafka  # the benchmark's comparison forwarder
  python3-aiohttp     # idem
  nginx-light         # the benchmark's receiver
  wrk                 # the benchmark's HTTP load generator
  curl                # README examples and smoke checks
  openssl             # the SMTP and receiver TLS tests make their certificates
  tinyproxy           # the proxy the egress tests deliver through
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
