# Sourced by the benchmark scripts: whether the PyTorch peer can run, and how to tune it.
# Sets: have_torch (Debian's torch importable, on an optimised BLAS), core (OPENBLAS_CORETYPE).
have_torch=0; /usr/bin/python3 -c "import torch" 2>/dev/null && have_torch=1
# Debian's torch multiplies through libblas.so.3: the reference BLAS unless an optimised one
# (libopenblas0-pthread) provides it, which makes PyTorch ~50x slower and its ratios meaningless.
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
if [ $have_torch = 1 ] && [[ $blas != *openblas* ]]; then
  echo "PyTorch peer skipped: libblas.so.3 is ${blas:-missing}, not OpenBLAS (apt-get install libopenblas0-pthread)" >&2
  have_torch=0
fi

# OpenBLAS 0.3.21 misdetects recent CPUs; name the core its kernels should target.
flags=$(grep -m1 '^flags' /proc/cpuinfo)
core=HASWELL
if [[ $flags == *avx512_bf16* ]]; then core=COOPERLAKE; elif [[ $flags == *avx512f* ]]; then core=SKYLAKEX; fi
