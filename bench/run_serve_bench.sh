#!/usr/bin/env bash
# Streaming generation through `accel serve` under 8, 32 and 64 concurrent clients (token-id
# prompts, greedy, ignore_eos so every stream runs to max_tokens): continuous batching
# (--parallel = clients) beside the same server decoding one sequence at a time (--parallel 1),
# and, when LLAMA_SERVER=/path/to/llama-server is set, llama.cpp's server on the SAME GGUF with
# as many slots. One synthetic LLaMA (decode_bench --write-gguf) is written once; every server
# runs it with the same threads, one after the other, and bench/serve_bench drives each alike.
# usage: [LLAMA_SERVER=...] [MODEL=125m] [DTYPE=q8_0] [CLIENTS="8 32 64"] [SECONDS_EACH=30]
#        [PROMPT=64] [MAX_TOKENS=64] [THREADS=$(nproc)] bench/run_serve_bench.sh   (Release build in ./build)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${ACCEL_BENCH_SCRATCH:-/tmp/accel-bench-peers}/serve
mkdir -p "$scratch"
model=${MODEL:-125m}
dtype=${DTYPE:-q8_0}
clients_list=${CLIENTS:-"8 32 64"}
seconds=${SECONDS_EACH:-30}
prompt=${PROMPT:-64}
max_tokens=${MAX_TOKENS:-64}
threads=${THREADS:-$(nproc)}
port=${PORT:-18977}
slot=$(( prompt + max_tokens + 16 ))
results="$scratch/serve_results.jsonl"
: > "$results"

gguf="$scratch/$model-$dtype.gguf"
[ -s "$gguf" ] || ./build/bench/decode_bench --model "$model" --dtype "$dtype" --write-gguf "$gguf" > /dev/null
vocab=32000  # 125m, 1b and tinyllama (src/models/synthetic) have 32000 tokens

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "accel $(git rev-parse --short HEAD); model $model $dtype (synthetic), prompt $prompt, max_tokens $max_tokens, ${seconds}s per point, $threads threads"

server_pid=
# A fresh port per server: the last one's closed connections linger in TIME_WAIT.
next_port() { port=$(( port + 1 )); }
stop_server() { [ -n "$server_pid" ] && kill "$server_pid" 2> /dev/null && wait "$server_pid" 2> /dev/null; server_pid=; true; }
trap stop_server EXIT
wait_ready() {
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "server on port $port did not come up" >&2
  return 1
}
drive() {  # label clients
  ./build/bench/serve_bench --port "$port" --clients "$2" --seconds "$seconds" --prompt-tokens "$prompt" \
    --max-tokens "$max_tokens" --vocab "$vocab" --model bench --label "$1" | tee -a "$results"
}

for clients in $clients_list; do
  for parallel in "$clients" 1; do
    next_port
    ACCEL_NUM_THREADS=$threads ./build/accel serve -m "bench=$gguf" --port "$port" --parallel "$parallel" \
      --slot-context "$slot" --max-queue "$clients" --http-threads $(( clients + 8 )) 2> "$scratch/accel.log" &
    server_pid=$!
    wait_ready
    drive "accel-parallel-$parallel" "$clients"
    stop_server
  done
  if [ -n "${LLAMA_SERVER:-}" ]; then
    next_port
    "$LLAMA_SERVER" -m "$gguf" --port "$port" -t "$threads" -np "$clients" -c $(( clients * slot )) -cb \
      --no-warmup > "$scratch/llama.log" 2>&1 &
    server_pid=$!
    wait_ready
    drive "llama-server-np-$clients" "$clients"
    stop_server
  fi
done

# Aggregate tokens/s and TTFT per point, with ratios to llama-server where it ran.
/usr/bin/python3 - "$results" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by = {(r["label"].rsplit("-", 1)[0] if r["label"].startswith("llama") else r["label"], r["clients"]): r for r in rows}
print("| clients | server | tok/s | TTFT p50 ms | TTFT p99 ms | failed | vs llama-server |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    peer = by.get(("llama-server-np", r["clients"]))
    ratio = "%.2fx" % (r["tok_s"] / peer["tok_s"]) if peer and peer["tok_s"] > 0 else "-"
    print("| %d | %s | %.1f | %.0f | %.0f | %d | %s |" % (r["clients"], r["label"], r["tok_s"], r["ttft_ms_p50"], r["ttft_ms_p99"], r["failed"], ratio))
EOF
