# The two commands a new user runs (README): `make demo` and `make test`.
.PHONY: setup build demo test release bench http-clients microbench reliability clean

setup:
	./scripts/setup.sh

build: setup
	swift build

demo: build
	.build/debug/webhook-bridge demo

# Builds everything (the executable too: some tests run it as a subprocess), then runs every test:
# first the unit and integration suites (in parallel), then the Reliability suites at smoke size on
# their own, so their crashes, broker faults and load do not skew the others' retry timings.
test: setup
	swift build --build-tests
	swift test --skip-build --skip Reliability
	swift test --skip-build --filter Reliability

release: setup
	swift build -c release

# The benchmarks are a package of their own (Benchmarks/), so the product and `make test` build
# none of them. Its release build holds the bench and, beside it, the webhook-bridge it runs.
BENCH_BUILD = swift build -c release --package-path Benchmarks
BENCH_ARGS ?=

# The benchmark (issue 7): nginx + wrk + the Python forwarder; writes docs/benchmarks.md.
# `make bench BENCH_ARGS="--only 1"` runs one step.
bench: setup
	$(BENCH_BUILD) --product webhook-bridge
	$(BENCH_BUILD) --product webhook-bridge-bench
	Benchmarks/.build/release/webhook-bridge-bench $(BENCH_ARGS)

# AsyncHTTPClient against the lean NIO client prototype, CPU per request against nginx (issue 17).
http-clients: setup
	$(BENCH_BUILD) --product webhook-bridge-bench
	Benchmarks/.build/release/webhook-bridge-bench http-clients $(BENCH_ARGS)

# Micro-benchmarks (package-benchmark): routing, signing, request bodies, Avro decoding.
microbench:
	cd Benchmarks && swift package benchmark --target WebhookMicroBenchmarks --no-progress

# The reliability suite at full size (about 4 minutes); writes docs/reliability.md.
reliability: setup
	./scripts/reliability.sh

clean:
	rm -rf .build Benchmarks/.build
