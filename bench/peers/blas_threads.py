"""Imported by the PyTorch peers before torch: Debian's torch does its matrix products in
OpenBLAS, which sizes its own thread pool from OPENBLAS_NUM_THREADS when it loads and never
hears of torch.set_num_threads; unpinned, a "1 thread" run multiplies on every core (measured:
1b f32 prefill 138 tok/s at 134% CPU, 81 tok/s pinned)."""
import os
import sys


def pin_from_argv(default=1):
    n = str(default)
    if "--threads" in sys.argv[:-1]:
        n = sys.argv[sys.argv.index("--threads") + 1]
    os.environ["OPENBLAS_NUM_THREADS"] = n
    os.environ["OMP_NUM_THREADS"] = n


pin_from_argv()
