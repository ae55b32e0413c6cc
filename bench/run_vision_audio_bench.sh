#!/usr/bin/env bash
# ViT-B/16 (224 x 224, batch 1 and 8) and the Whisper-base encoder (30 s: input_features
# 1 x 80 x 3000) at 1 and 2 threads: accel f32 and bf16 (with bf16's deviation from f32 on the
# same inputs) beside PyTorch (as installed and with OPENBLAS_CORETYPE set for this CPU) and
# ONNX Runtime, in one run on one machine. Synthetic weights on both sides.
# Peers: bench/peers/env.sh. usage: bench/run_vision_audio_bench.sh [ITERATIONS]   (needs ./build)
set -euo pipefail
cd "$(dirname "$0")/.."
iters=${1:-6}
warmup=2
source bench/peers/env.sh
results="$scratch/vision_audio_results.jsonl"
: > "$results"
onnx_model vit-base-patch16-224 vit-base-patch16-224.onnx
onnx_model whisper-base whisper-base-encoder.onnx

bf16=0; [[ $flags == *avx512_bf16* ]] && bf16=1
machine_line
for threads in 1 2; do
  for point in "vit-base-patch16-224 1" "vit-base-patch16-224 8" "whisper-base 1"; do
    read -r model batch <<< "$point"
    n=$iters; [ "$batch" = 8 ] || [ "$model" = whisper-base ] && n=$(( (iters + 1) / 2 ))
    common=(--model $model --threads $threads --batch $batch --iterations $n --warmup $warmup)
    ./build/bench/encoder_bench "${common[@]}" >> "$results"
    [ $bf16 = 1 ] && ./build/bench/encoder_bench "${common[@]}" --dtype bf16 >> "$results"
    if [ $have_torch = 1 ]; then
      for label in torch torch-tuned; do torch_peer $label "${common[@]}" >> "$results"; done
    fi
    if [ $have_ort = 1 ]; then
      if [ $model = whisper-base ]; then file=whisper-base-encoder.onnx; input=input_features:float32:${batch}x80x3000
      else file=$model.onnx; input=pixel_values:float32:${batch}x3x224x224; fi
      (cd "$scratch" && node ort_encoder.js $file $model $threads $n $warmup $input) >> "$results"
    fi
  done
done

echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
points = sorted({(r["model"], r["threads"], r["batch"]) for r in rows}, key=lambda p: (p[1], p[0] != "vit-base-patch16-224", p[2]))
engines = ["accel", "accel-bf16", "torch", "torch-tuned", "onnxruntime"]
name = {"vit-base-patch16-224": "ViT-B/16", "whisper-base": "Whisper-base encoder"}
print("\n| threads | model | input | " + " | ".join(f"{e} ms" for e in engines) +
      " | accel f32 items/s | accel f32 speed-up vs torch / tuned / ORT | accel bf16 vs ORT |")
print("|---|---|---|" + "---|" * len(engines) + "---|---|---|")
for p in points:
    sel = [r for r in rows if (r["model"], r["threads"], r["batch"]) == p]
    got = {r["engine"]: r["median_ms"] for r in sel}
    ours = got.get("accel")
    ratios = " / ".join(f"{got[e] / ours:.2f}x" if e in got and ours else "-" for e in engines[2:])
    bf = f"{got['onnxruntime'] / got['accel-bf16']:.2f}x" if "onnxruntime" in got and "accel-bf16" in got else "-"
    rate = f"{p[2] * 1000 / ours:.2f}" if ours else "-"
    print(f"| {p[1]} | {name.get(p[0], p[0])} | {sel[0]['input']} | " + " | ".join(f"{got[e]:.1f}" if e in got else "-" for e in engines) +
          f" | {rate} | {ratios} | {bf} |")
acc = {}
for r in rows:
    if r["engine"] == "accel-bf16":
        key = (r["model"], r["input"], r["max_abs_diff_vs_f32"], r["mean_abs_diff_vs_f32"], r["max_abs_f32"])
        acc.setdefault(key, []).append(str(r["threads"]))
if acc:
    print("\nbf16 accuracy cost (every output vs the f32 model on the same inputs):\n")
    print("| model | input | threads | max abs diff | mean abs diff | max abs f32 |")
    print("|---|---|---|---|---|---|")
    for (model, shape, mx, mean, ref), threads in acc.items():
        print(f"| {name.get(model, model)} | {shape} | {', '.join(threads)} | {mx:.3g} | {mean:.3g} | {ref:.3g} |")
PY
