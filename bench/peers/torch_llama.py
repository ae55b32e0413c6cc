#!/usr/bin/python3
"""PyTorch peer for bench/run_llama_bench.sh: a LLaMA-shaped decoder in plain torch.nn (RMSNorm,
rotary embeddings, grouped-query attention, SwiGLU MLP, a preallocated KV cache) with random
weights, timed like bench/decode_bench.cpp: prefill of the prompt in one forward, then greedy
decode; decode ms/token is the time of the steps after the first new token divided by their
number. Run with Debian's /usr/bin/python3 (python3-torch). Prints one JSON line."""
import argparse, json, time
import blas_threads  # noqa: F401  (before torch: pins OpenBLAS to --threads)
import torch
from torch import nn

SHAPES = {  # hidden, layers, heads, kv_heads, ffn, vocab
    "125m": (768, 12, 12, 4, 2048, 32000),
    "1b": (2048, 16, 32, 8, 8192, 32000),
    "tinyllama": (2048, 22, 32, 4, 5632, 32000),
}


def linear(i, o):
    return nn.utils.skip_init(nn.Linear, i, o, bias=False)  # filled below, not initialised twice


class RMSNorm(nn.Module):
    def __init__(s, n, eps=1e-5):
        super().__init__()
        s.weight, s.eps = nn.Parameter(torch.ones(n)), eps

    def forward(s, x):
        v = x.float().pow(2).mean(-1, keepdim=True)
        return (x.float() * torch.rsqrt(v + s.eps)).to(x.dtype) * s.weight


def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat((-b, a), dim=-1)


class Layer(nn.Module):
    def __init__(s, h, heads, kv, ffn):
        super().__init__()
        s.heads, s.kv, s.d = heads, kv, h // heads
        s.attn_norm, s.mlp_norm = RMSNorm(h), RMSNorm(h)
        s.q, s.k, s.v, s.o = linear(h, h), linear(h, kv * s.d), linear(h, kv * s.d), linear(h, h)
        s.gate, s.up, s.down = linear(h, ffn), linear(h, ffn), linear(ffn, h)

    def forward(s, x, cos, sin, ck, cv, pos):
        b, t, _ = x.shape
        h = s.attn_norm(x)
        q = s.q(h).view(b, t, s.heads, s.d).transpose(1, 2)
        k = s.k(h).view(b, t, s.kv, s.d).transpose(1, 2)
        v = s.v(h).view(b, t, s.kv, s.d).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        ck[:, :, pos:pos + t] = k
        cv[:, :, pos:pos + t] = v
        keys = ck[:, :, :pos + t].repeat_interleave(s.heads // s.kv, dim=1)
        vals = cv[:, :, :pos + t].repeat_interleave(s.heads // s.kv, dim=1)
        scores = (q @ keys.transpose(-1, -2)) * (s.d ** -0.5)
        if t > 1:
            causal = torch.full((t, pos + t), float("-inf"), dtype=scores.dtype).triu(pos + 1)
            scores = scores + causal
        att = torch.softmax(scores.float(), dim=-1).to(q.dtype) @ vals
        x = x + s.o(att.transpose(1, 2).reshape(b, t, -1))
        h = s.mlp_norm(x)
        return x + s.down(nn.functional.silu(s.gate(h)) * s.up(h))


class Llama(nn.Module):
    def __init__(s, h, layers, heads, kv, ffn, vocab, max_pos=2048, theta=10000.0):
        super().__init__()
        s.embed = nn.Embedding(vocab, h)
        s.layers = nn.ModuleList(Layer(h, heads, kv, ffn) for _ in range(layers))
        s.norm, s.lm_head = RMSNorm(h), linear(h, vocab)
        d = h // heads
        inv = 1.0 / theta ** (torch.arange(0, d, 2).float() / d)
        ang = torch.outer(torch.arange(max_pos).float(), inv)
        s.register_buffer("cos", torch.cat((ang, ang), -1).cos(), persistent=False)
        s.register_buffer("sin", torch.cat((ang, ang), -1).sin(), persistent=False)

    def forward(s, ids, cache, pos):
        x = s.embed(ids)
        t = ids.shape[1]
        cos, sin = s.cos[pos:pos + t].to(x.dtype), s.sin[pos:pos + t].to(x.dtype)
        for layer, (ck, cv) in zip(s.layers, cache):
            x = layer(x, cos, sin, ck, cv, pos)
        return s.lm_head(s.norm(x[:, -1:]))[:, -1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="125m", choices=SHAPES)
    ap.add_argument("--dtype", default="f32", choices=["f32", "bf16"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--label", default="torch")
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    h, layers, heads, kv, ffn, vocab = SHAPES[a.model]
    dtype = torch.float32 if a.dtype == "f32" else torch.bfloat16
    model = Llama(h, layers, heads, kv, ffn, vocab).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-0.04, 0.04)
        for m in model.modules():
            if isinstance(m, RMSNorm):
                m.weight.fill_(1.0)
    model = model.to(dtype)
    elem = 4 if dtype == torch.float32 else 2
    weight_bytes = sum(p.numel() for n, p in model.named_parameters() if n != "embed.weight") * elem + h * elem
    d = h // heads
    ids = torch.randint(3, vocab, (1, a.prompt))

    def generate(n_new):
        cache = [(torch.zeros(1, kv, a.prompt + n_new, d, dtype=dtype), torch.zeros(1, kv, a.prompt + n_new, d, dtype=dtype))
                 for _ in range(layers)]
        t0 = time.perf_counter()
        logits = model(ids, cache, 0)
        t1 = time.perf_counter()
        nxt = logits.argmax(-1, keepdim=True)
        t2 = time.perf_counter()
        for i in range(1, n_new):
            nxt = model(nxt, cache, a.prompt + i - 1).argmax(-1, keepdim=True)
        t3 = time.perf_counter()
        return (t1 - t0) * 1000, (t3 - t2) * 1000 / max(1, n_new - 1)

    prefill, decode = [], []
    with torch.inference_mode():
        generate(2)  # warm-up
        for _ in range(a.reps):
            p, dm = generate(a.tokens)
            prefill.append(p)
            decode.append(dm)
    prefill.sort()
    decode.sort()
    pf, dm = prefill[len(prefill) // 2], decode[len(decode) // 2]
    print(json.dumps({"engine": a.label, "model": a.model, "dtype": a.dtype, "threads": a.threads, "prompt": a.prompt,
                      "tokens": a.tokens, "source": "random", "prefill_ms": round(pf, 2),
                      "prefill_tok_s": round(a.prompt / (pf / 1000), 2), "decode_ms_per_token": round(dm, 3),
                      "decode_tok_s": round(1000 / dm, 2), "weight_bytes_per_token": weight_bytes,
                      "decode_gbps": round(weight_bytes / dm / 1e6, 2), "reps": a.reps}))


if __name__ == "__main__":
    main()
