#!/usr/bin/env bash
# Packs what scripts/vulkan_device_check.sh runs on a machine that cannot build the project:
# accel, the Vulkan op test, every shared library they load (glibc included, so the bundle runs
# on an older or newer distribution through its own dynamic loader) and the Vulkan loader, which
# GPU machines without a desktop stack lack (the H200 machine has NVIDIA's ICD but no loader).
# Usage: scripts/vulkan_bundle.sh BUILD_DIR  ->  BUILD_DIR/vkbundle (about 40 MB)
set -euo pipefail
build="$1"
out="$build/vkbundle"
rm -rf "$out"
mkdir -p "$out/lib"
cp "$build/accel" "$build/tests/vulkan_backend_test" "$out/"
for f in $( (ldd "$build/accel"; ldd "$build/tests/vulkan_backend_test") | awk '/=>/ {print $3} /ld-linux/ {print $1}' | sort -u); do
  cp -L "$f" "$out/lib/"
done
# dlopen'ed at run time: the loader, and the glibc stubs an ICD links against.
cp -L "$(ldconfig -p | awk '/libvulkan.so.1 / {print $NF; exit}')" "$out/lib/"
for l in libdl.so.2 libpthread.so.0 librt.so.1; do cp -L "/lib/x86_64-linux-gnu/$l" "$out/lib/"; done
du -sh "$out"
