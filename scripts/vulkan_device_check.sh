#!/usr/bin/env bash
# Device check for the Vulkan backend (issue 16) on a machine that cannot build the project
# (no Debian libraries): runs a bundle built on Debian (scripts/vulkan_bundle.sh: accel, the op
# test, their shared libraries, glibc and the Vulkan loader) against the machine's Vulkan driver.
# Usage: scripts/vulkan_device_check.sh BUNDLE_DIR OUT_DIR
set -u
bundle="$1"
out="$2"
mkdir -p "$out"
log="$out/summary.txt"
say() { echo "$*" | tee -a "$log"; }
run() {  # run NAME CMD...: through the bundle's dynamic loader and libraries
  local name="$1"; shift
  "$bundle/lib/ld-linux-x86-64.so.2" --library-path "$bundle/lib" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  say "$name: exit $rc"
  tail -n 5 "$out/$name.log" | sed 's/^/    /' | tee -a "$log"
}
say "date: $(date -u)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/gpu: /' | tee -a "$log"
ldd --version 2>&1 | head -1 | sed 's/^/host libc: /' | tee -a "$log"
# The NVIDIA Vulkan driver lives in libGLX_nvidia.so.0; containers often lack its ICD manifest.
icd=""
for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
  for f in "$d"/nvidia*.json; do [ -f "$f" ] && icd="$f"; done
done
if [ -z "$icd" ]; then
  lib=$(ls /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0 /usr/lib64/libGLX_nvidia.so.0 /usr/lib/libGLX_nvidia.so.0 2>/dev/null | head -1)
  if [ -z "$lib" ]; then lib=$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia.so.0/ {print $NF; exit}'); fi
  if [ -n "$lib" ]; then
    icd="$out/nvidia_icd.json"
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$lib" >"$icd"
  fi
fi
say "vulkan icd: ${icd:-none found}"
[ -n "$icd" ] && export VK_ICD_FILENAMES="$icd" VK_DRIVER_FILES="$icd"
run hw "$bundle/accel" hw
run op_test "$bundle/vulkan_backend_test"
run verify "$bundle/accel" verify --device vulkan --all tests/data/models
run verify_cpu "$bundle/accel" verify --all tests/data/models
