#!/usr/bin/python3
"""PyTorch peers for bench/run_bert_bench.sh and bench/run_vision_audio_bench.sh, written in plain
torch.nn with random weights at the shapes of accel's synthetic models, timed like encoder_bench
(warm-up runs, then the median of --iterations):
  bert-base             embeddings, 12 post-LN layers (exact GELU), tanh pooler; ids [B, seq]
  vit-base-patch16-224  stride-16 conv patch embedding, class token, learned positions,
                        12 pre-LN layers (exact GELU), final LayerNorm, tanh pooler; [B, 3, 224, 224]
  whisper-base          the encoder: two Conv1d + GELU (the second stride 2), sinusoidal
                        positions, 6 pre-LN layers, final LayerNorm; 30 s of features [B, 80, 3000]
Run with Debian's /usr/bin/python3 (python3-torch). --export writes the model as ONNX instead."""
import argparse, json, math, time
import blas_threads  # noqa: F401  (before torch: pins OpenBLAS to --threads)
import torch
from torch import nn


def layers(n, width, heads, ffn, eps, pre_ln):
    return nn.ModuleList(nn.TransformerEncoderLayer(width, heads, ffn, dropout=0.0, activation="gelu", batch_first=True,
                                                    layer_norm_eps=eps, norm_first=pre_ln) for _ in range(n))


class Bert(nn.Module):
    def __init__(s, vocab=30522, h=768, n=12, heads=12, ffn=3072, max_pos=512):
        super().__init__()
        s.word, s.pos, s.tok = nn.Embedding(vocab, h), nn.Embedding(max_pos, h), nn.Embedding(2, h)
        s.ln = nn.LayerNorm(h, eps=1e-12)
        s.layers = layers(n, h, heads, ffn, 1e-12, pre_ln=False)
        s.pool = nn.Linear(h, h)

    def forward(s, input_ids, attention_mask):
        pos = torch.arange(input_ids.shape[1]).unsqueeze(0)
        x = s.ln(s.word(input_ids) + s.pos(pos) + s.tok(torch.zeros_like(input_ids)))
        pad = attention_mask == 0
        for layer in s.layers:
            x = layer(x, src_key_padding_mask=pad)
        return x, torch.tanh(s.pool(x[:, 0]))


class Vit(nn.Module):
    def __init__(s, h=768, n=12, heads=12, ffn=3072, image=224, patch=16):
        super().__init__()
        s.patch = nn.Conv2d(3, h, patch, stride=patch)
        s.cls = nn.Parameter(torch.randn(1, 1, h) * 0.02)
        s.pos = nn.Parameter(torch.randn(1, (image // patch) ** 2 + 1, h) * 0.02)
        s.layers = layers(n, h, heads, ffn, 1e-12, pre_ln=True)
        s.ln = nn.LayerNorm(h, eps=1e-12)
        s.pool = nn.Linear(h, h)

    def forward(s, pixel_values):
        x = s.patch(pixel_values).flatten(2).transpose(1, 2)
        x = torch.cat([s.cls.expand(x.shape[0], -1, -1), x], dim=1) + s.pos
        for layer in s.layers:
            x = layer(x)
        x = s.ln(x)
        return x, torch.tanh(s.pool(x[:, 0]))


def sinusoids(length, width):
    half = width // 2
    inv = torch.exp(-math.log(10000.0) / (half - 1) * torch.arange(half, dtype=torch.float32))
    t = torch.arange(length, dtype=torch.float32)[:, None] * inv[None, :]
    return torch.cat([torch.sin(t), torch.cos(t)], dim=1)


class WhisperEncoder(nn.Module):
    def __init__(s, d=512, n=6, heads=8, ffn=2048, mels=80, positions=1500):
        super().__init__()
        s.conv1 = nn.Conv1d(mels, d, 3, padding=1)
        s.conv2 = nn.Conv1d(d, d, 3, stride=2, padding=1)
        s.register_buffer("pos", sinusoids(positions, d))
        s.layers = layers(n, d, heads, ffn, 1e-5, pre_ln=True)
        s.ln = nn.LayerNorm(d)

    def forward(s, input_features):
        x = nn.functional.gelu(s.conv1(input_features))
        x = nn.functional.gelu(s.conv2(x)).transpose(1, 2) + s.pos
        for layer in s.layers:
            x = layer(x)
        return s.ln(x)


def build(a):
    """The model, its example inputs, their ONNX names, the output names, the ONNX dynamic axes."""
    if a.model == "bert-base":
        ids = torch.randint(1000, 20000, (a.batch, a.seq))
        axes = {"input_ids": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"}}
        return Bert(), (ids, torch.ones_like(ids)), ["input_ids", "attention_mask"], ["last_hidden_state", "pooler_output"], axes
    if a.model == "vit-base-patch16-224":
        pixels = torch.rand(a.batch, 3, 224, 224) * 2 - 1
        return Vit(), (pixels,), ["pixel_values"], ["last_hidden_state", "pooler_output"], {"pixel_values": {0: "b"}}
    if a.model == "whisper-base":
        features = torch.rand(a.batch, 80, 3000) * 2 - 1
        return WhisperEncoder(), (features,), ["input_features"], ["encoder_last_hidden_state"], {"input_features": {0: "b"}}
    raise SystemExit(f"unknown --model {a.model}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="bert-base", help="bert-base, vit-base-patch16-224 or whisper-base (encoder)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seq", type=int, default=128, help="bert-base only")
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--label", default="torch")
    ap.add_argument("--export", help="write an ONNX file instead of timing")
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model, inputs, input_names, output_names, axes = build(a)
    model.eval()
    if a.export:
        torch.onnx.export(model, inputs, a.export, input_names=input_names, output_names=output_names, opset_version=14,
                          dynamic_axes=axes)
        return
    times = []
    with torch.inference_mode():
        for i in range(a.warmup + a.iterations):
            t0 = time.perf_counter()
            model(*inputs)
            if i >= a.warmup:
                times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(json.dumps({"engine": a.label, "model": a.model, "threads": a.threads, "batch": a.batch,
                      "seq": a.seq if a.model == "bert-base" else 0, "input": "x".join(map(str, inputs[0].shape)),
                      "median_ms": round(times[len(times) // 2], 2), "min_ms": round(times[0], 2),
                      "iterations": a.iterations}))


if __name__ == "__main__":
    main()
