#!/usr/bin/env bash
# Installs the Debian packages accel needs. Idempotent: packages already present are skipped, so
# a second run costs one dpkg query.
#   scripts/setup.sh --run   what building and running the CLI needs (`make run`)
#   scripts/setup.sh         that plus what the tests and benchmarks need (`make test`)
set -euo pipefail

RUN_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  nlohmann-json3-dev libcli11-dev      # JSON, command-line parsing
  libutf8proc-dev libpcre2-dev         # tokenizers: Unicode normalization/categories, \p{L} regex
  libsentencepiece-dev                 # tokenizers: SentencePiece .model files
  libsqlite3-dev                       # benchmark database (default backend)
  libpq-dev                            # benchmark database on PostgreSQL (postgres:// URLs)
  libpng-dev libjpeg-dev               # image decoding for vision preprocessing
  libsndfile1-dev libsoxr-dev          # audio decoding (WAV/FLAC) and resampling
  libhwloc-dev                         # NUMA topology for `accel hw`
  opencl-c-headers ocl-icd-libopencl1  # OpenCL types + ICD loader (probed with dlopen)
  libvulkan-dev glslc                  # Vulkan loader and GLSL -> SPIR-V for the Vulkan backend
  libcurl4-openssl-dev libssl-dev libpugixml-dev  # remote APIs: HTTP, SigV4 hashing, S3 XML
  libcpp-httplib-dev libtoml11-dev     # `accel serve` and its TOML config
)
TEST_PACKAGES=(
  clang libclang-rt-14-dev             # libFuzzer + sanitizers
  libgtest-dev                         # the test suite (GoogleTest)
  postgresql                           # a real server the database tests start on loopback
  chromium                             # headless browser that renders the HTML report in tests
  pocl-opencl-icd                      # a CPU OpenCL device the hardware tests find
  mesa-vulkan-drivers                  # lavapipe: a CPU Vulkan device the backend tests run on
  pybind11-dev python3-dev             # the Python module (`import accel`)
  python3-numpy python3-pytest         # its arrays and its tests
  python3-jinja2                       # the chat-template tests' reference: Jinja2 writes the expected outputs
)

PACKAGES=("${RUN_PACKAGES[@]}")
if [ "${1:-}" != "--run" ]; then
  PACKAGES+=("${TEST_PACKAGES[@]}")
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -ne 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Test tooling, like the browser: the official `openai` and `ollama` npm clients that tests/serve runs against
# `accel serve`, into tools/node (git-ignored). Optional: without node/npm or the registry the
# test skips and says why.
[ "${1:-}" = "--run" ] && exit 0
tools="$(cd "$(dirname "$0")/.." && pwd)/tools/node"
# Both in one install: a later --no-save install would prune the other.
if command -v npm >/dev/null && { [ ! -f "$tools/node_modules/openai/package.json" ] || [ ! -f "$tools/node_modules/ollama/package.json" ]; }; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --no-save openai ollama >/dev/null 2>&1 \
    || echo "setup.sh: npm install openai ollama failed; the official-client tests will skip" >&2
fi
