# Thin wrapper over CMake. `make demo` and `make test` install what is
# missing (Debian packages, as root), build and run.
BUILD      ?= build
ASAN_BUILD ?= build-asan
BENCH_BUILD ?= build-bench
COVERAGE_BUILD ?= build-coverage
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build asan test test-fast coverage demo demo-stream demo-uav bench format clean

all: build

deps:
	./scripts/install-deps

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSCN_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The whole suite: every test on the normal build, then the unit and
# integration tests again under AddressSanitizer + UBSan.
test: build asan
	./scripts/install-test-peers
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -L 'unit|integration'
	./scripts/check-no-keys-in-logs $(BUILD) $(ASAN_BUILD)

test-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L unit

# Line coverage of lib/, uav/ and apps/ by the whole suite (but valgrind's
# repeats), per file, written to docs/COVERAGE.md (gcovr). About as long
# as the normal half of make test.
coverage: deps
	./scripts/install-test-peers
	cmake -S . -B $(COVERAGE_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSCN_COVERAGE=ON $(CMAKE_ARGS) >/dev/null
	cmake --build $(COVERAGE_BUILD) -j $(JOBS)
	find $(COVERAGE_BUILD) -name '*.gcda' -delete
	# The report is written even when a test failed (and says so); make
	# still fails then.
	ctest --test-dir $(COVERAGE_BUILD) --output-on-failure -j $(JOBS) -LE valgrind; \
	status=$$?; \
	./scripts/coverage-report $(COVERAGE_BUILD) docs/COVERAGE.md $$status && exit $$status

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
	rm -rf $(BUILD) $(ASAN_BUILD) $(COVERAGE_BUILD)
