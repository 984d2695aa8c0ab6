# The two commands a new user runs (README): `make demo` and `make test`.
.PHONY: setup build demo test release bench reliability clean

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

# The benchmark (issue 7): release build, nginx + wrk + the Python forwarder; writes docs/benchmarks.md.
bench: release
	.build/release/webhook-bridge-bench

# The reliability suite at full size (about 4 minutes); writes docs/reliability.md.
reliability: setup
	./scripts/reliability.sh

clean:
	rm -rf .build
