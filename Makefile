# tollgate: two commands do all the set-up on a fresh Debian machine.
#   make demo   build and open the console on the embedded demo gateway (no services)
#   make test   install what is missing, start Redis and ClickHouse, run every test
#   make bench  benchmarks against baselines measured in the same run
#   make sandbox  the console on a Redis and a ClickHouse of its own, with `tollgate simulate` driving traffic
.PHONY: demo build test bench sandbox deps-build clean

demo: deps-build
	swift build
	.build/debug/tollgate --demo

build: deps-build
	swift build

test:
	scripts/test.sh

sandbox:
	scripts/sandbox.sh

bench:
	ONLY=$(ONLY) scripts/bench.sh

deps-build:
	@scripts/deps.sh

clean:
	rm -rf .build
