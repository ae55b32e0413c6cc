"""PyTorch peer for the CUDA decode/prefill benchmark, run beside bench/decode_bench on the GPU
machine (scripts/device_check.sh): a LLaMA-shaped model from transformers with random bf16
weights, prefill of a prompt and greedy decode with a KV cache, in eager mode. Also measures the
machine's ceilings in the same run: device copy bandwidth and the bf16 matrix rate.
Prints one JSON line per measurement."""
import argparse
import json
import time

import torch

SHAPES = {  # hidden, layers, heads, kv_heads, ffn, vocab (as bench/decode_bench.cpp)
    "1b": (2048, 16, 32, 8, 8192, 32000),
    "8b": (4096, 32, 32, 8, 14336, 128256),
}


def ceilings():
    n = 1 << 30  # 1 GiB source
    a = torch.empty(n, dtype=torch.uint8, device="cuda")
    b = torch.empty_like(a)
    for _ in range(3):
        b.copy_(a)
    torch.cuda.synchronize()
    reps = 20
    t = time.perf_counter()
    for _ in range(reps):
        b.copy_(a)
    torch.cuda.synchronize()
    copy_gbps = 2 * n * reps / (time.perf_counter() - t) / 1e9  # read + write
    m = 8192
    x = torch.randn(m, m, dtype=torch.bfloat16, device="cuda")
    y = torch.randn(m, m, dtype=torch.bfloat16, device="cuda")
    for _ in range(3):
        x @ y
    torch.cuda.synchronize()
    reps = 20
    t = time.perf_counter()
    for _ in range(reps):
        x @ y
    torch.cuda.synchronize()
    tflops = 2 * m**3 * reps / (time.perf_counter() - t) / 1e12
    print(json.dumps({"engine": "ceiling", "copy_gbps": round(copy_gbps, 1), "bf16_tflops": round(tflops, 1)}), flush=True)


def run(shape, prompt, tokens, reps):
    from transformers import LlamaConfig, LlamaForCausalLM
    from transformers.cache_utils import DynamicCache

    h, layers, heads, kv, ffn, vocab = SHAPES[shape]
    cfg = LlamaConfig(hidden_size=h, num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv,
                      intermediate_size=ffn, vocab_size=vocab, max_position_embeddings=8192)
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = LlamaForCausalLM(cfg).to(torch.bfloat16).eval()
    ids = (torch.arange(prompt, device="cuda") * 7919 % 30000 + 3).unsqueeze(0)
    pre, dec = [], []
    with torch.inference_mode():
        for r in range(reps + 1):
            cache = DynamicCache()
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            out = model(ids, past_key_values=cache, use_cache=True)
            nxt = out.logits[:, -1].argmax(-1, keepdim=True)
            torch.cuda.synchronize()
            t1 = time.perf_counter()
            for _ in range(tokens - 1):
                out = model(nxt, past_key_values=cache, use_cache=True)
                nxt = out.logits[:, -1].argmax(-1, keepdim=True)
            torch.cuda.synchronize()
            t2 = time.perf_counter()
            if r:  # the first pass warms up
                pre.append((t1 - t0) * 1e3)
                dec.append((t2 - t1) * 1e3 / max(1, tokens - 1))
    pre.sort()
    dec.sort()
    pf, dm = pre[len(pre) // 2], dec[len(dec) // 2]
    print(json.dumps({"engine": "torch-eager", "model": shape, "dtype": "bf16", "prompt": prompt, "tokens": tokens,
                      "prefill_ms": round(pf, 2), "prefill_tok_s": round(prompt / pf * 1e3, 1),
                      "decode_ms_per_token": round(dm, 3), "decode_tok_s": round(1e3 / dm, 1),
                      "torch": torch.__version__}), flush=True)
    del model
    torch.cuda.empty_cache()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="1b", choices=sorted(SHAPES))
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ceilings", action="store_true")
    a = ap.parse_args()
    if a.ceilings:
        ceilings()
    else:
        run(a.model, a.prompt, a.tokens, a.reps)
