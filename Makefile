# The two commands of the README: `make run` and `make test`.
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS ?= $(shell nproc)
# Where ccache is installed (a developer convenience; CMake uses it when found), object files are
# shared between clones and worktrees: paths under the checkout are hashed relative to it.
export CCACHE_BASEDIR ?= $(CURDIR)

# Extra CMake options; CI passes -DACCEL_WERROR=ON (warnings are errors).
CMAKE_FLAGS ?=
CONFIGURE = cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

.PHONY: setup setup-run configure configure-cli build build-cli run test test-fast asan tsan fuzz bench bench-llama clean

# Everything the tests and benchmarks need.
setup:
	bash scripts/setup.sh

# Only what building and running the CLI needs.
setup-run:
	bash scripts/setup.sh --run

configure: setup
	$(CONFIGURE)

configure-cli: setup-run
	$(CONFIGURE)

# Everything: the library, the CLI, the test executables and (if enabled) the benches.
build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Only what `make run` runs: the `accel` binary and the library under it.
build-cli: configure-cli
	cmake --build $(BUILD) -j $(JOBS) --target accel_cli

# The main job: what this machine is, every bundled model checked against its reference, the
# quick benchmark (bundled models + synthetic bert-base at real shape) into ./accel.db, and the
# HTML report.
run: build-cli
	./$(BUILD)/accel hw
	./$(BUILD)/accel verify --all tests/data/models
	./$(BUILD)/accel bench --suite quick --db accel.db
	./$(BUILD)/accel report --db accel.db --out report.html
	@echo "database: $(CURDIR)/accel.db   report: $(CURDIR)/report.html   (try: ./$(BUILD)/accel query performance)"

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# Sanitizer builds link the C++ libraries shared: with ~75 test executables each carrying its
# own instrumented, debug-info copy of the static libraries, build-asan alone took 26 GB of disk.
SANITIZER_CMAKE_FLAGS = -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACCEL_BUILD_BENCH=OFF -DBUILD_SHARED_LIBS=ON

# AddressSanitizer + UndefinedBehaviorSanitizer build of the whole suite (CI runs it).
# GCC 12's LeakSanitizer crashes at exit ("Tracer caught signal 11") scanning the dynamic TLS of
# pocl, the CPU OpenCL driver, in a process that loaded it: the CLI runs of this suite probe
# OpenCL through a library path that does not exist (the in-process pocl probe test still loads it).
asan: setup
	cmake -S . -B $(ASAN_BUILD) $(SANITIZER_CMAKE_FLAGS) -DACCEL_SANITIZE=address,undefined
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ACCEL_HW_OPENCL_LIB=/nonexistent/libOpenCL.so \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -LE slow

# ThreadSanitizer build of the concurrency tests (the model pool, the thread pool, the C API's
# per-model serialisation and cancel from another thread, continuous batching of generation,
# serve's embedding batches, a stream whose client leaves, full queue and per-key rate limits);
# CI runs it after asan. Not ServeTest.ConcurrentStreams*: TSan reports (1 run in 3) a race inside
# Debian's libcpp-httplib 0.11 when two workers write chunked streams at once (memcpy into a
# global of the library, docs/SERVE.md "How it runs"); our batcher's own concurrency is covered by
# ContinuousBatcher.*.
tsan: setup
	cmake -S . -B $(TSAN_BUILD) $(SANITIZER_CMAKE_FLAGS) -DACCEL_SANITIZE=thread
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target resource_pool_test cpu_kernels_test capi_test serve_test continuous_batcher_test
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS) \
	  -R '^(ResourcePool|MemoryBudget|ThreadPool|CApi|KeyRateLimiter|ContinuousBatcher)\.|^ServeTest\.(WaitingEmbeddingRequestsRunAsOneBatch|FullQueueAnswers429WithRetryAfterAndMetricsShowIt|ClientThatLeavesMidStreamFreesTheModel|EachApiKeyHasItsOwnRateLimit)$$'

bench: build
	bash bench/run_bert_bench.sh

# LLaMA 125M/1B prefill + decode beside PyTorch and (with LLAMA_BENCH=/path/to/llama-bench) llama.cpp.
bench-llama: build
	bash bench/run_llama_bench.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
