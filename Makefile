# Thin wrapper over CMake. `make demo` and `make test` install what is
# missing (Debian packages, as root), build and run.
BUILD      ?= build
ASAN_BUILD ?= build-asan
BENCH_BUILD ?= build-bench
FUZZ_BUILD ?= build-fuzz
# Seconds each fuzz target runs in `make fuzz`.
FUZZ_SECONDS ?= 600
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build asan fuzz-build test test-fast fuzz demo demo-stream \
	demo-uav bench format clean

all: build

deps:
	./scripts/install-deps

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSCN_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# libFuzzer targets (tests/fuzz), built with clang, ASan and UBSan.
fuzz-build: deps
	CC=clang-14 cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSCN_FUZZ=ON $(CMAKE_ARGS) >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz-targets

# The whole suite: every test on the normal build, then the unit and
# integration tests again under AddressSanitizer + UBSan, then every fuzz
# target over its corpus and a few seconds of new inputs.
test: build asan fuzz-build
	./scripts/install-test-peers
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -L 'unit|integration'
	ctest --test-dir $(FUZZ_BUILD) --output-on-failure -j $(JOBS) -L fuzz
	./scripts/check-no-keys-in-logs $(BUILD) $(ASAN_BUILD)

# Each fuzz target for FUZZ_SECONDS, one at a time; new inputs are kept
# in $(FUZZ_BUILD)/fuzz-work for the next run. Prints executions per target.
fuzz: fuzz-build
	tests/fuzz/fuzz-run -t $(FUZZ_SECONDS) -w $(FUZZ_BUILD)/fuzz-work $(FUZZ_BUILD)

test-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L unit

demo: build
	./scripts/demo $(BUILD)

demo-stream: build
	./scripts/demo-stream $(BUILD)

demo-uav: build
	./scripts/demo-uav $(BUILD)

# Benchmarks against the peers (docs/PERFORMANCE.md); about 7 min on 2
# cores. Separate from the tests: no timing is ever asserted there.
bench: deps
	./bench/install-peers
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null
	cmake --build $(BENCH_BUILD) -j $(JOBS) --target bench-server bench-lws-client bench-scn-client \
	  scn-record scn-sim scn-companion
	./bench/run $(BENCH_BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
