#!/usr/bin/python3
"""PyTorch peer for bench/run_bert_bench.sh: a BERT-base-shaped encoder (embeddings, 12 post-LN
transformer layers with exact GELU, tanh pooler) with random weights, timed like bert_bench.
Run with Debian's /usr/bin/python3 (python3-torch). Optionally exports the model to ONNX."""
import argparse, json, time
import torch
from torch import nn


class Bert(nn.Module):
    def __init__(s, vocab=30522, h=768, layers=12, heads=12, ffn=3072, max_pos=512):
        super().__init__()
        s.word, s.pos, s.tok = nn.Embedding(vocab, h), nn.Embedding(max_pos, h), nn.Embedding(2, h)
        s.ln = nn.LayerNorm(h, eps=1e-12)
        s.layers = nn.ModuleList(nn.TransformerEncoderLayer(h, heads, ffn, dropout=0.0, activation="gelu",
                                                            batch_first=True, layer_norm_eps=1e-12) for _ in range(layers))
        s.pool = nn.Linear(h, h)

    def forward(s, input_ids, attention_mask):
        pos = torch.arange(input_ids.shape[1]).unsqueeze(0)
        x = s.ln(s.word(input_ids) + s.pos(pos) + s.tok(torch.zeros_like(input_ids)))
        pad = attention_mask == 0
        for layer in s.layers:
            x = layer(x, src_key_padding_mask=pad)
        return x, torch.tanh(s.pool(x[:, 0]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--label", default="torch")
    ap.add_argument("--export", help="write an ONNX file instead of timing")
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = Bert().eval()
    ids = torch.randint(1000, 20000, (a.batch, a.seq))
    mask = torch.ones_like(ids)
    if a.export:
        torch.onnx.export(model, (ids, mask), a.export, input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state", "pooler_output"], opset_version=14,
                          dynamic_axes={"input_ids": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"}})
        return
    times = []
    with torch.inference_mode():
        for i in range(3 + a.iterations):
            t0 = time.perf_counter()
            model(ids, mask)
            if i >= 3:
                times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(json.dumps({"engine": a.label, "threads": a.threads, "batch": a.batch, "seq": a.seq,
                      "median_ms": round(times[len(times) // 2], 2), "min_ms": round(times[0], 2),
                      "iterations": a.iterations}))


if __name__ == "__main__":
    main()
