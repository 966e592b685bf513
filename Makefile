# Thin wrapper over CMake. `make demo` and `make test` install what is
# missing (Debian packages, as root), build and run.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
BENCH_BUILD ?= build-bench
COVERAGE_BUILD ?= build-coverage
FUZZ_BUILD ?= build-fuzz
# Seconds each fuzz target runs in `make fuzz`.
FUZZ_SECONDS ?= 600
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build asan tsan fuzz-build test test-fast coverage fuzz demo \
	demo-stream demo-uav demo-fleet bench format clean cross-deps cross test-cross \
	test-board deb bench-board bench-companion-mqtt

all: build

deps:
	./scripts/install-deps

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSCN_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The threaded tests (ctest label "threaded") under ThreadSanitizer: only
# what they run is built, to keep it to a minute or two.
TSAN_TARGETS = unit_test_loop unit_test_resolve it_test_backpressure it_test_fanout \
	it_test_server scn-sim
tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCN_TSAN=ON $(CMAKE_ARGS) >/dev/null
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target $(TSAN_TARGETS)

# libFuzzer targets (tests/fuzz), built with clang, ASan and UBSan.
fuzz-build: deps
	CC=clang-14 cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSCN_FUZZ=ON $(CMAKE_ARGS) >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz-targets

# The whole suite: every test on the normal build, then the unit and
# integration tests again under AddressSanitizer + UBSan, the threaded
# ones under ThreadSanitizer, then every fuzz
# target over its corpus and a few seconds of new inputs.
test: build asan tsan fuzz-build
	./scripts/install-test-peers
	./scripts/install-cross-deps --packaging
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -L 'unit|integration'
	ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS) -L threaded
	ctest --test-dir $(FUZZ_BUILD) --output-on-failure -j $(JOBS) -L fuzz
	$(MAKE) test-board
	./scripts/check-no-keys-in-logs $(BUILD) $(ASAN_BUILD)

# Each fuzz target for FUZZ_SECONDS, one at a time; new inputs are kept
# in $(FUZZ_BUILD)/fuzz-work for the next run. Prints executions per target.
fuzz: fuzz-build
	tests/fuzz/fuzz-run -t $(FUZZ_SECONDS) -w $(FUZZ_BUILD)/fuzz-work $(FUZZ_BUILD)

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

# Three simulated drones through a local mosquitto into scn-fleet.
demo-fleet: build
	./scripts/demo-fleet $(BUILD)

# Benchmarks against the peers (docs/PERFORMANCE.md); about 8 min on 2
# cores. Separate from the tests: no timing is ever asserted there.
bench: deps
	./bench/install-peers
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null
	cmake --build $(BENCH_BUILD) -j $(JOBS) --target bench-server bench-lws-client bench-scn-client \
	  scn-record scn-sim scn-companion scn-stream scn-fleet fleet-load
	./bench/run $(BENCH_BUILD)
	./bench/stream-jsonl $(BENCH_BUILD)
	./bench/fleet $(BENCH_BUILD)

# The companion's cost of the fleet output over MQTT (bench/companion-mqtt;
# docs/PERFORMANCE.md, "The companion with MQTT on"): about 3 minutes.
bench-companion-mqtt: build
	./bench/companion-mqtt $(BUILD)

# --- Boards: cross builds for Debian arm64/armhf, tested under qemu-user ---
# `make cross ARCH=arm64|armhf` builds into build-ARCH with Debian's cross
# toolchain (scripts/install-cross-deps installs it); `make test-cross`
# runs its unit tests, C integration tests and tests/cross under qemu-user
# against simulators from the native build. `make test` runs the armhf
# unit tests every time (test-board; docs/PERFORMANCE.md, "Boards", says
# why that much).
ARCH ?= armhf
CROSS_BUILD = build-$(ARCH)
EMULATED = nice -n 10

cross-deps:
	@case "$(ARCH)" in arm64|armhf) ;; *) echo "ARCH must be arm64 or armhf" >&2; exit 64;; esac
	./scripts/install-cross-deps $(ARCH)

cross: deps cross-deps
	cmake -S . -B $(CROSS_BUILD) -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-$(ARCH).cmake \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCN_HOST_APPS_DIR=$(abspath $(BUILD))/apps \
	  -DSCN_BUILD_BENCH=OFF \
	  $(CMAKE_ARGS) >/dev/null
	cmake --build $(CROSS_BUILD) -j $(JOBS)

test-cross: build cross
	$(EMULATED) ctest --test-dir $(CROSS_BUILD) --output-on-failure -j $(JOBS)

test-board:
	$(MAKE) cross ARCH=armhf
	$(EMULATED) ctest --test-dir build-armhf --output-on-failure -j $(JOBS) -L unit

# Debian packages for the host, arm64 and armhf in build-deb/ARCH/, each
# checked by lintian (scripts/build-deb, debian/).
DEB_OUT ?= build-deb
deb: deps
	./scripts/install-cross-deps --packaging
	./scripts/install-cross-deps arm64
	./scripts/install-cross-deps armhf
	./scripts/build-deb $$(dpkg --print-architecture) $(DEB_OUT)
	./scripts/build-deb arm64 $(DEB_OUT)
	./scripts/build-deb armhf $(DEB_OUT)

# The companion's instructions per frame and peak RSS on x86-64, arm64 and
# armhf (bench/board-footprint; docs/PERFORMANCE.md, "Boards"), from the
# RelWithDebInfo builds: -O2, as the Debian packages are built.
bench-board: build
	$(MAKE) cross ARCH=arm64
	$(MAKE) cross ARCH=armhf
	$(EMULATED) ./bench/board-footprint --host-apps $(BUILD)/apps \
	  --target arm64=build-arm64/apps --target armhf=build-armhf/apps

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(COVERAGE_BUILD) $(FUZZ_BUILD) build-armhf build-arm64 $(DEB_OUT)
