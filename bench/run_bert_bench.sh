#!/usr/bin/env bash
# BERT-base encoder, batch {1,8} x seq 128, {1,2} threads: accel beside PyTorch (as installed and
# with OPENBLAS_CORETYPE set for this CPU) and ONNX Runtime, in one run on one machine.
# Peers: bench/peers/env.sh. usage: bench/run_bert_bench.sh [ITERATIONS]   (needs ./build)
set -euo pipefail
cd "$(dirname "$0")/.."
iters=${1:-10}
source bench/peers/env.sh
results="$scratch/bert_results.jsonl"
: > "$results"
onnx_model bert-base bert-base.onnx

machine_line
for threads in 1 2; do
  for batch in 1 8; do
    n=$iters; [ "$batch" = 8 ] && n=$(( (iters + 1) / 2 ))
    ./build/bench/encoder_bench --model bert-base --threads $threads --batch $batch --seq 128 --iterations $n >> "$results"
    if [ $have_torch = 1 ]; then
      for label in torch torch-tuned; do
        torch_peer $label --model bert-base --threads $threads --batch $batch --iterations $n >> "$results"
      done
    fi
    if [ $have_ort = 1 ]; then
      (cd "$scratch" && node ort_encoder.js bert-base.onnx bert-base $threads $n 3 input_ids:int64:${batch}x128 \
        attention_mask:int64:${batch}x128) >> "$results"
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
