# Developer entry points. Everything real lives in scripts/ (see each script's header).
#   make build      install build deps (scripts/setup.sh), configure and build build/
#   make demo       local-mode walk-through: backup, list, restore, verify (scripts/demo.sh)
#   make test       everything CI runs: release + sanitizer trees, real S3 servers (scripts/run-tests.sh)
#   make test-unit  build/ unit tests only; no servers, no sanitizer tree
#   make bench      benchmark against the cron pipeline (bench/run.sh; BENCH_ARGS="--size 1G")
#   make format     clang-format -i on src/ and tests/
#   make clean      remove the build trees and the demo directory
.PHONY: all build demo test test-unit bench format clean

BUILD_TYPE ?= RelWithDebInfo

all: build

build:
	BUILD_TYPE=$(BUILD_TYPE) scripts/build.sh

demo:
	scripts/demo.sh

test:
	scripts/run-tests.sh

bench:
	bench/run.sh $(BENCH_ARGS)

test-unit:
	scripts/run-tests.sh --unit

format:
	find src tests -name '*.h' -o -name '*.cc' | xargs -r clang-format -i

clean:
	rm -rf build build-asan demo
