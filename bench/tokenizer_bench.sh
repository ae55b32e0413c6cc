#!/usr/bin/env bash
# Encode throughput, accel vs Hugging Face `tokenizers` (npm package, Rust core), on a ~10 MB
# mixed-language corpus built from the fixture texts, for byte-level BPE and WordPiece.
# The npm package is installed into a scratch folder under /tmp, never into the repository.
# usage: bench/tokenizer_bench.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
scratch=${TOK_BENCH_DIR:-/tmp/accel_tokenizer_bench}
mkdir -p "$scratch"
cmake --build "$build" --target tokenizer_bench -j2 >/dev/null

corpus=$scratch/corpus.txt
if [ ! -s "$corpus" ]; then
  python3 - "$root/tests/data/tokenizers/bert-wordpiece/expected.jsonl" "$corpus" <<'PY'
import json, random, sys
texts = sorted({json.loads(l)["text"] for l in open(sys.argv[1])} - {""})
random.seed(7)
out, size = [], 0
while size < 10_000_000:
    line = " ".join(random.choice(texts).replace("\n", " ") for _ in range(random.randint(1, 8)))
    out.append(line)
    size += len(line.encode()) + 1
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PY
fi

have_hf=1
if [ ! -d "$scratch/node_modules/tokenizers" ]; then
  (cd "$scratch" && npm install --no-audit --no-fund --silent tokenizers@0.23.2 >/dev/null 2>&1) || have_hf=0
fi
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
for t in gpt2-bytelevel-bpe bert-wordpiece; do
  dir=$root/tests/data/tokenizers/$t
  ACCEL_NUM_THREADS=$(nproc) "$build/bench/tokenizer_bench" "$dir" "$corpus"
  if [ $have_hf = 1 ]; then
    RAYON_NUM_THREADS=1 node "$root/bench/tokenizer_bench_hf.js" "$scratch" "$dir/tokenizer.json" "$corpus"
    node "$root/bench/tokenizer_bench_hf.js" "$scratch" "$dir/tokenizer.json" "$corpus"
  else
    echo "hf-tokenizers: npm package 'tokenizers' could not be installed here; no peer numbers"
  fi
done
