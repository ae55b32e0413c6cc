#!/usr/bin/env bash
# The checks that need an NVIDIA GPU, as one run on the GPU machine (which has nvcc, CMake,
# ninja and PyTorch but none of our Debian packages; scripts/device_deps.sh gathers the
# header-only libraries and GoogleTest's sources beforehand):
#   1. build the engine-only configuration with the CUDA backend;
#   2. the op-conformance test on every backend (CUDA against the CPU);
#   3. every fixture verified on CUDA;
#   4. compute-sanitizer memcheck of the CUDA op tests;
#   5. LLaMA-shaped decode/prefill beside PyTorch eager, with the copy bandwidth and bf16
#      matrix rate measured in the same run.
# Writes summary.txt and the logs to $OUT (default ./device-out).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
BENCH_MODELS=${BENCH_MODELS:-"1b 8b"}
PEERS=${PEERS:-1}                      # 0: skip PyTorch and the ceilings (a short re-run)
MEMCHECK_FILTER=${MEMCHECK_FILTER:-'*/cuda:-*DeviceTensorsAreNotHostReadable*'}  # the death test forks: not under the sanitizer
say() { echo "== $*" | tee -a "$OUT/summary.txt"; }

{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nvcc --version | tail -1;
  cmake --version | head -1; nproc; } > "$OUT/machine.txt" 2>&1
say "machine: $(tr '\n' ' ' < "$OUT/machine.txt")"

if ! { cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DACCEL_ENGINE_ONLY=ON -DACCEL_WITH_CUDA=ON \
         -DACCEL_HEADERS_DIR="$PWD/.device-deps/include" -DACCEL_GTEST_SOURCE_DIR="$PWD/.device-deps/googletest" &&
       cmake --build build-cuda -j"$(nproc)"; } > "$OUT/build.log" 2>&1; then
  say "build FAILED"
  tail -40 "$OUT/build.log"
  exit 1
fi
say "build ok"

timeout 300 build-cuda/tests/backend_ops_test > "$OUT/ops.log" 2>&1
say "backend_ops_test exit $?: $(grep -cE '^\[       OK \]' "$OUT/ops.log") ok, $(grep -cE '^\[  FAILED  \].*\(' "$OUT/ops.log") failed"
grep -E "FAILED|skipping|Failure|error" "$OUT/ops.log" | head -20 | tee -a "$OUT/summary.txt"

timeout 300 build-cuda/accel verify --device cuda --all tests/data/models > "$OUT/verify.log" 2>&1
say "verify --device cuda exit $?: $(tail -1 "$OUT/verify.log")"
grep -E "FAIL|accel:" "$OUT/verify.log" | head -20 | tee -a "$OUT/summary.txt"

SAN=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
if [ -x "$SAN" ]; then
  timeout 150 "$SAN" --tool memcheck --leak-check no build-cuda/tests/backend_ops_test --gtest_filter="$MEMCHECK_FILTER" \
    > "$OUT/memcheck.log" 2>&1
  say "compute-sanitizer memcheck exit $?: $(grep -E 'ERROR SUMMARY' "$OUT/memcheck.log" | tail -1)"
else
  say "compute-sanitizer: not on this machine"
fi

: > "$OUT/bench.jsonl"
[ "$PEERS" = 1 ] && timeout 120 python3 bench/peers/torch_llama_cuda.py --ceilings >> "$OUT/bench.jsonl" 2> "$OUT/bench.err"
# One run per model: prefill of a 2048-token prompt, then 64 decode steps over it.
for m in $BENCH_MODELS; do
  timeout 200 build-cuda/decode_bench --device cuda --model "$m" --dtype bf16 --prompt 2048 --tokens 64 --reps 2 \
    >> "$OUT/bench.jsonl" 2>> "$OUT/bench.err"
  [ "$PEERS" = 1 ] && timeout 150 python3 bench/peers/torch_llama_cuda.py --model "$m" --prompt 2048 --tokens 64 --reps 2 \
    >> "$OUT/bench.jsonl" 2>> "$OUT/bench.err"
done
say "bench:"
cat "$OUT/bench.jsonl" | tee -a "$OUT/summary.txt"
tail -5 "$OUT/bench.err" >> "$OUT/summary.txt"
