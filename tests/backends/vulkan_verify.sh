#!/usr/bin/env bash
# accel verify --device vulkan --all FIXTURES: every bundled fixture on the Vulkan backend
# (lavapipe in CI). Exits 77 (CTest: skipped), saying why, where no Vulkan device exists.
set -u
accel="$1"
fixtures="$2"
probe=$("$accel" verify --device vulkan "$fixtures/bert-tiny" 2>&1)
rc=$?
if [ $rc -eq 2 ] && grep -qi "vulkan" <<<"$probe"; then
  echo "SKIP: no Vulkan device: $probe"
  exit 77
fi
exec "$accel" verify --device vulkan --all "$fixtures"
