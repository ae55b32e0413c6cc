#!/usr/bin/env bash
# BERT-base encoder, batch {1,8} x seq 128, {1,2} threads: accel beside PyTorch (as installed and
# with OPENBLAS_CORETYPE set for this CPU) and ONNX Runtime, in one run on one machine.
# ONNX Runtime comes from npm into a scratch folder outside the repo; PyTorch from Debian.
# usage: bench/run_bert_bench.sh [ITERATIONS]   (needs a Release build in ./build)
set -euo pipefail
cd "$(dirname "$0")/.."
iters=${1:-10}
scratch=${ACCEL_BENCH_SCRATCH:-/tmp/accel-bench-peers}
mkdir -p "$scratch"
results="$scratch/bert_results.jsonl"
: > "$results"

have_torch=0; /usr/bin/python3 -c "import torch" 2>/dev/null && have_torch=1
have_ort=0
if command -v npm >/dev/null && [ ! -d "$scratch/node_modules/onnxruntime-node" ]; then
  (cd "$scratch" && npm init -y >/dev/null 2>&1 && npm install --ignore-scripts onnxruntime-node >/dev/null 2>&1) || true
fi
[ -d "$scratch/node_modules/onnxruntime-node" ] && [ $have_torch = 1 ] && have_ort=1
if [ $have_ort = 1 ] && [ ! -f "$scratch/bert-base.onnx" ]; then
  /usr/bin/python3 bench/peers/torch_bert.py --export "$scratch/bert-base.onnx" 2>/dev/null || have_ort=0
fi
cp bench/peers/ort_bert.js "$scratch/"

# OpenBLAS 0.3.21 misdetects recent CPUs; name the core its kernels should target.
flags=$(grep -m1 '^flags' /proc/cpuinfo)
core=HASWELL
if [[ $flags == *avx512_bf16* ]]; then core=COOPERLAKE; elif [[ $flags == *avx512f* ]]; then core=SKYLAKEX; fi

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; torch tuned with OPENBLAS_CORETYPE=$core"
for threads in 1 2; do
  for batch in 1 8; do
    n=$iters; [ "$batch" = 8 ] && n=$(( (iters + 1) / 2 ))
    ./build/bench/encoder_bench --model bert-base --threads $threads --batch $batch --seq 128 --iterations $n >> "$results"
    if [ $have_torch = 1 ]; then
      OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4 /usr/bin/python3 bench/peers/torch_bert.py --threads $threads \
        --batch $batch --iterations $n --label torch >> "$results"
      OPENBLAS_CORETYPE=$core OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4 /usr/bin/python3 bench/peers/torch_bert.py \
        --threads $threads --batch $batch --iterations $n --label torch-tuned >> "$results"
    fi
    if [ $have_ort = 1 ]; then
      (cd "$scratch" && node ort_bert.js bert-base.onnx $threads $batch 128 $n) >> "$results"
    fi
  done
done

/usr/bin/python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
points = sorted({(r["threads"], r["batch"], r["seq"]) for r in rows})
engines = ["accel", "torch", "torch-tuned", "onnxruntime"]
print("\n| threads | batch x seq | " + " | ".join(f"{e} ms" for e in engines) + " | accel speed-up vs each peer |")
print("|---|---|" + "---|" * len(engines) + "---|")
for p in points:
    got = {r["engine"]: r["median_ms"] for r in rows if (r["threads"], r["batch"], r["seq"]) == p}
    ours = got.get("accel")
    ratios = ", ".join(f"{e} {got[e] / ours:.2f}x" for e in engines[1:] if e in got and ours)
    print(f"| {p[0]} | {p[1]} x {p[2]} | " + " | ".join(f"{got[e]:.1f}" if e in got else "-" for e in engines) + f" | {ratios} |")
PY
