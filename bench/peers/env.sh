# Sourced by bench/run_*_bench.sh: finds the peers and prepares them in a scratch folder outside
# the repo. PyTorch is Debian's (/usr/bin/python3); ONNX Runtime is npm's onnxruntime-node,
# installed with --ignore-scripts (its install script fetches GPU files) into the scratch folder;
# models are exported for it with torch.onnx.export. Sets: scratch, have_torch, have_ort, core
# (have_torch and core from torch_env.sh).
scratch=${ACCEL_BENCH_SCRATCH:-/tmp/accel-bench-peers}
mkdir -p "$scratch"

source bench/peers/torch_env.sh
have_ort=0
if command -v npm >/dev/null && [ ! -d "$scratch/node_modules/onnxruntime-node" ]; then
  (cd "$scratch" && npm init -y >/dev/null 2>&1 && npm install --ignore-scripts onnxruntime-node >/dev/null 2>&1) || true
fi
[ -d "$scratch/node_modules/onnxruntime-node" ] && [ $have_torch = 1 ] && have_ort=1
cp bench/peers/ort_encoder.js "$scratch/"

# torch_peer LABEL ARGS...: PyTorch with one passive pool (two spinning pools make 2 threads
# slower than 1); LABEL torch-tuned also sets OPENBLAS_CORETYPE.
torch_peer() {
  local label=$1; shift
  local tuned=()
  [ "$label" = torch-tuned ] && tuned=(OPENBLAS_CORETYPE=$core)
  env "${tuned[@]}" OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT=4 /usr/bin/python3 bench/peers/torch_encoders.py --label "$label" "$@"
}

# onnx_model MODEL FILE [ARGS...]: exports the PyTorch peer once (have_ort=0 if that fails).
onnx_model() {
  local model=$1 file=$2; shift 2
  [ $have_ort = 1 ] || return 0
  [ -f "$scratch/$file" ] && return 0
  /usr/bin/python3 bench/peers/torch_encoders.py --model "$model" --export "$scratch/$file" "$@" 2>/dev/null || have_ort=0
}

machine_line() {
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); torch tuned with OPENBLAS_CORETYPE=$core"
}
