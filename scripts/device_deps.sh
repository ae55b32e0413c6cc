#!/usr/bin/env bash
# Gathers what the engine-only build needs from this machine's Debian packages into
# .device-deps/ (git-ignored), for a machine that has a compiler and CMake but not our
# packages (the GPU machine): the header-only libraries nlohmann/json and CLI11, and
# GoogleTest's sources. Nothing is downloaded. Pass the folder to CMake with
#   -DACCEL_HEADERS_DIR=.device-deps/include -DACCEL_GTEST_SOURCE_DIR=.device-deps/googletest
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=.device-deps
rm -rf "$out"
mkdir -p "$out/include"
cp -r /usr/include/nlohmann /usr/include/CLI "$out/include/"
cp -r /usr/src/googletest "$out/googletest"
echo "device_deps: $(du -sh "$out" | cut -f1) in $out"
