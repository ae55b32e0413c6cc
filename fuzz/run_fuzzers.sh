#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each briefly.
# usage: run_fuzzers.sh BUILD_DIR SOURCE_DIR [SECONDS]
set -euo pipefail
build=$1; src=$2; secs=${3:-${ACCEL_FUZZ_SECONDS:-10}}
cmake -S "$src/fuzz" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACCEL_ROOT="$src" > "$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" > "$build.build.log" 2>&1 || { tail -50 "$build.build.log"; exit 1; }
for target in "$build"/fuzz_*; do
  [ -x "$target" ] || continue
  name=$(basename "$target")
  corpus="$build/corpus_$name"; mkdir -p "$corpus"
  seeds="$src/fuzz/seeds/${name#fuzz_}"
  echo "== $name for ${secs}s"
  "$target" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 "$corpus" $( [ -d "$seeds" ] && echo "$seeds" ) 2>&1 | tail -3
done
