#!/usr/bin/env bash
# LLaMA prefill (128 tokens) and decode (64 tokens) side by side, {1,2} threads: accel beside
# PyTorch (as installed and with OPENBLAS_CORETYPE set for this CPU, f32/bf16) and, when
# LLAMA_BENCH=/path/to/llama-bench is set, llama.cpp on the SAME weights: each synthetic model is
# written once as a GGUF file (decode_bench --write-gguf) and both engines run that file. The
# memory-bandwidth probe runs first so the table can say what share of the machine's read
# bandwidth decode reaches. PyTorch runs random weights of the same shapes (f32 and bf16 only:
# its f16 rows are '-', as torch 1.13's CPU Linear has no f16 kernel: "addmm_impl_cpu_" not
# implemented for 'Half'). f16 runs 16-bit weights with f32 arithmetic, as llama.cpp runs F16.
# usage: [LLAMA_BENCH=...] [MODELS="125m 1b"] [DTYPES="f32 f16 bf16 q8_0 q4_0"] [THREADS="1 2"] \
#        bench/run_llama_bench.sh            (needs a Release build in ./build)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${ACCEL_BENCH_SCRATCH:-/tmp/accel-bench-peers}/llama
mkdir -p "$scratch"
results="$scratch/llama_results.jsonl"
: > "$results"
models=${MODELS:-"125m 1b"}
dtypes=${DTYPES:-"f32 f16 bf16 q8_0 q4_0"}
threads_list=${THREADS:-"1 2"}
reps=${REPS:-3}

source bench/peers/torch_env.sh  # have_torch, core

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "accel $(git rev-parse --short HEAD); llama.cpp: ${LLAMA_BENCH:-not run}; torch tuned with OPENBLAS_CORETYPE=$core"
./build/bench/membw >> "$results"

# llama-bench's JSON lines -> ours: pp128 -> prefill tok/s; tg64 -> decode ms/token, at the
# depth (tokens already in the cache) it ran at.
llama_rows() {
  /usr/bin/python3 -c '
import json, sys
model, dtype, threads = sys.argv[1:4]
for line in sys.stdin:
    if not line.startswith("{"): continue
    r = json.loads(line)
    test = "pp%d" % r["n_prompt"] if r["n_gen"] == 0 else "tg%d@d%d" % (r["n_gen"], r["n_depth"])
    out = {"engine": "llama.cpp", "model": model, "dtype": dtype, "threads": int(threads), "test": test,
           "build": r["build_commit"], "tok_s": r["avg_ts"], "stddev_tok_s": r["stddev_ts"]}
    print(json.dumps(out))
' "$@"
}

for model in $models; do
  for dtype in $dtypes; do
    gguf="$scratch/$model-$dtype.gguf"
    [ -s "$gguf" ] || ./build/bench/decode_bench --model "$model" --dtype "$dtype" --write-gguf "$gguf" > /dev/null
    for t in $threads_list; do
      ./build/bench/decode_bench --gguf "$gguf" --model "$model" --threads "$t" --reps "$reps" >> "$results"
      if [ -n "${LLAMA_BENCH:-}" ]; then
        # As the issue asks (-p 128 -n 64: decode from an empty cache), then decode after 128
        # cached tokens, the context accel's decode runs at.
        "$LLAMA_BENCH" -m "$gguf" -p 128 -n 64 -t "$t" -r "$reps" -o jsonl 2> /dev/null | llama_rows "$model" "$dtype" "$t" >> "$results"
        "$LLAMA_BENCH" -m "$gguf" -p 0 -n 64 -d 128 -t "$t" -r "$reps" -o jsonl 2> /dev/null | llama_rows "$model" "$dtype" "$t" >> "$results"
      fi
      if [ $have_torch = 1 ] && { [ "$dtype" = f32 ] || [ "$dtype" = bf16 ]; }; then
        OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4 /usr/bin/python3 bench/peers/torch_llama.py --model "$model" \
          --dtype "$dtype" --threads "$t" --reps "$reps" --label torch >> "$results"
        OPENBLAS_CORETYPE=$core OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4 /usr/bin/python3 bench/peers/torch_llama.py \
          --model "$model" --dtype "$dtype" --threads "$t" --reps "$reps" --label torch-tuned >> "$results"
      fi
    done
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); results: $results"

/usr/bin/python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
bw = {r["threads"]: r["gbps"] for r in rows if r.get("probe") == "membw" and r["huge_pages"]}
def one(engine, m, d, t, test=None):
    for r in rows:
        if r.get("engine") == engine and (r["model"], r["dtype"], r["threads"]) == (m, d, t) and r.get("test") == test:
            return r
pts = []
for r in rows:
    if r.get("engine") == "accel" and (r["model"], r["dtype"], r["threads"]) not in pts:
        pts.append((r["model"], r["dtype"], r["threads"]))
f = lambda v, p=1: "-" if v is None else f"{v:.{p}f}"
print("\nmemory read bandwidth (bench/membw, 2 GiB, huge pages): " + ", ".join(f"{t} thread(s) {g:.1f} GB/s" for t, g in sorted(bw.items())))
print("\n| model | weights | threads | prefill tok/s: accel / llama.cpp / torch-tuned | decode ms/token: accel / llama.cpp d128 / llama.cpp d0 / torch-tuned | accel decode GB/s (% of membw) | accel speed-up: prefill vs llama.cpp, decode vs llama.cpp d128, decode vs torch-tuned |")
print("|---|---|---|---|---|---|---|")
for m, d, t in pts:
    a = one("accel", m, d, t)
    pp, tg0, tg128 = (one("llama.cpp", m, d, t, x) for x in ("pp128", "tg64@d0", "tg64@d128"))
    tt = one("torch-tuned", m, d, t)
    lpp = pp["tok_s"] if pp else None
    l0 = 1000 / tg0["tok_s"] if tg0 else None
    l128 = 1000 / tg128["tok_s"] if tg128 else None
    tpp = tt["prefill_tok_s"] if tt else None
    tdm = tt["decode_ms_per_token"] if tt else None
    share = f" ({100 * a['decode_gbps'] / bw[t]:.0f}%)" if t in bw else ""
    ratios = ", ".join(x for x in (
        f"{a['prefill_tok_s'] / lpp:.2f}x" if lpp else "-",
        f"{l128 / a['decode_ms_per_token']:.2f}x" if l128 else "-",
        f"{tdm / a['decode_ms_per_token']:.2f}x" if tdm else "-"))
    print(f"| {m} | {d} | {t} | {f(a['prefill_tok_s'], 0)} / {f(lpp, 0)} / {f(tpp, 0)} | "
          f"{f(a['decode_ms_per_token'], 2)} / {f(l128, 2)} / {f(l0, 2)} / {f(tdm, 2)} | {f(a['decode_gbps'])}{share} | {ratios} |")
torch_rows = [r for r in rows if r.get("engine") == "torch"]
if torch_rows:
    print("\nPyTorch as installed (no OPENBLAS_CORETYPE): " + "; ".join(
        f"{r['model']} {r['dtype']} {r['threads']}t: prefill {r['prefill_tok_s']:.0f} tok/s, decode {r['decode_ms_per_token']:.1f} ms/token"
        for r in torch_rows))
PY
