#!/usr/bin/env python3
"""Writes tests/data/models/albert-tiny-groups: an ALBERT with several layer groups.

AlbertModel shares parameters between layers: num_hidden_groups groups, each holding
inner_group_num distinct layers. Layer i of num_hidden_layers runs group
int(i / (num_hidden_layers / num_hidden_groups)) (Python float division), and running a group
runs its inner_group_num layers in order. This fixture has 5 layers over 2 groups of 2 inner
layers, so the division is not exact (layers 0-2 -> group 0, 3-4 -> group 1) and every group
has two layers.

The reference is an independent float64 forward written here in plain torch tensor operations
(no transformers), from the float32 weights it saves. Run with Debian's python3-torch:
    /usr/bin/python3 tools/make_albert_groups_fixture.py [OUT_DIR]
"""
import json
import math
import os
import struct
import sys

import torch

SEED = 1907
CONFIG = {
    "architectures": ["AlbertModel"],
    "model_type": "albert",
    "torch_dtype": "float32",
    "vocab_size": 150,
    "embedding_size": 16,
    "hidden_size": 48,
    "num_hidden_layers": 5,
    "num_hidden_groups": 2,
    "num_attention_heads": 4,
    "intermediate_size": 96,
    "inner_group_num": 2,
    "max_position_embeddings": 24,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
    # Left out because they equal AlbertConfig's defaults, as sparse hub configs do:
    # hidden_act gelu_new, layer_norm_eps 1e-12, type_vocab_size 2, position_embedding_type absolute.
}
EPS = 1e-12  # AlbertConfig default layer_norm_eps
ATOL = RTOL = 1e-4


def weights(cfg, gen):
    e, h, f, v = cfg["embedding_size"], cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]

    def rnd(*shape, scale=0.2):
        return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).float()

    def norm(n):
        return 1.0 + rnd(n, scale=0.1), rnd(n, scale=0.1)

    w = {}
    w["embeddings.word_embeddings.weight"] = rnd(v, e, scale=1.0)
    w["embeddings.position_embeddings.weight"] = rnd(cfg["max_position_embeddings"], e, scale=0.5)
    w["embeddings.token_type_embeddings.weight"] = rnd(2, e, scale=0.5)
    w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"] = norm(e)
    w["encoder.embedding_hidden_mapping_in.weight"] = rnd(h, e, scale=0.3)
    w["encoder.embedding_hidden_mapping_in.bias"] = rnd(h, scale=0.1)
    for g in range(cfg["num_hidden_groups"]):
        for j in range(cfg["inner_group_num"]):
            p = f"encoder.albert_layer_groups.{g}.albert_layers.{j}."
            for name in ("query", "key", "value", "dense"):
                w[p + f"attention.{name}.weight"] = rnd(h, h, scale=0.15)
                w[p + f"attention.{name}.bias"] = rnd(h, scale=0.05)
            w[p + "attention.LayerNorm.weight"], w[p + "attention.LayerNorm.bias"] = norm(h)
            w[p + "ffn.weight"], w[p + "ffn.bias"] = rnd(f, h, scale=0.15), rnd(f, scale=0.05)
            w[p + "ffn_output.weight"], w[p + "ffn_output.bias"] = rnd(h, f, scale=0.15), rnd(h, scale=0.05)
            w[p + "full_layer_layer_norm.weight"], w[p + "full_layer_layer_norm.bias"] = norm(h)
    w["pooler.weight"], w["pooler.bias"] = rnd(h, h, scale=0.15), rnd(h, scale=0.05)
    return w


def layer_norm(x, wt, b):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + EPS) * wt + b


def gelu_new(x):  # the tanh approximation
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def linear(x, w, p):
    return x @ w[p + ".weight"].T + w[p + ".bias"]


def albert_layer(x, w, p, mask_add, heads):
    b, s, h = x.shape
    d = h // heads

    def split(t):
        return t.view(b, s, heads, d).transpose(1, 2)

    q, k, v = (split(linear(x, w, p + "attention." + n)) for n in ("query", "key", "value"))
    scores = q @ k.transpose(-1, -2) / math.sqrt(d) + mask_add
    ctx = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, s, h)
    attn = layer_norm(x + linear(ctx, w, p + "attention.dense"), w[p + "attention.LayerNorm.weight"],
                      w[p + "attention.LayerNorm.bias"])
    ffn = linear(gelu_new(linear(attn, w, p + "ffn")), w, p + "ffn_output")
    return layer_norm(ffn + attn, w[p + "full_layer_layer_norm.weight"], w[p + "full_layer_layer_norm.bias"])


def forward(cfg, w, ids, mask, types, group_of=None, inner_layers=None, dtype=torch.float64):
    w = {k: t.to(dtype) for k, t in w.items()}
    layers, groups = cfg["num_hidden_layers"], cfg["num_hidden_groups"]
    inner = cfg["inner_group_num"] if inner_layers is None else inner_layers
    if group_of is None:
        group_of = lambda i: int(i / (layers / groups))  # noqa: E731  (HF's grouping)
    pos = torch.arange(ids.shape[1]).unsqueeze(0).expand_as(ids)
    x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][pos] +
         w["embeddings.token_type_embeddings.weight"][types])
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    x = linear(x, w, "encoder.embedding_hidden_mapping_in")
    mask_add = (1.0 - mask.to(dtype))[:, None, None, :] * torch.finfo(dtype).min
    for i in range(layers):
        g = group_of(i)
        for j in range(inner):
            x = albert_layer(x, w, f"encoder.albert_layer_groups.{g}.albert_layers.{j}.", mask_add,
                             cfg["num_attention_heads"])
    pooled = torch.tanh(linear(x[:, 0], w, "pooler"))
    return {"last_hidden_state": x, "pooler_output": pooled}


def write_safetensors(path, tensors):
    names = sorted(tensors)
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for n in names:
        t = tensors[n].contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        data = t.numpy().tobytes()
        header[n] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    import numpy as np
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    out = {}
    for k, v in json.loads(b[8:8 + n]).items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        dt = {"F32": np.float32, "I64": np.int64}[v["dtype"]]
        out[k] = torch.from_numpy(np.frombuffer(b[8 + n + s:8 + n + e], dtype=dt).reshape(v["shape"]).copy())
    return out


def cross_check_single_group(models_dir):
    """This forward on the albert-tiny fixture (one group, made by another implementation)."""
    d = os.path.join(models_dir, "albert-tiny")
    if not os.path.isdir(d):
        return None
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    w = read_safetensors(os.path.join(d, "model.safetensors"))
    r = read_safetensors(os.path.join(d, "reference.safetensors"))
    out = forward(cfg, w, r["input.input_ids"], r["input.attention_mask"], r["input.token_type_ids"])
    return {k: max_diff(out[k], r["output." + k].double()) for k in out}


def max_diff(a, b):
    return float((a - b).abs().max())


def breaks_tolerance(got, ref):
    return bool(((got - ref).abs() > ATOL + RTOL * ref.abs()).any())


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data",
                                                              "models", "albert-tiny-groups")
    os.makedirs(out, exist_ok=True)
    gen = torch.Generator().manual_seed(SEED)
    w = weights(CONFIG, gen)
    ids = torch.randint(4, CONFIG["vocab_size"], (2, 12), generator=gen)
    ids[:, 0] = 2  # [CLS]
    ids[0, 11] = ids[1, 7] = 3  # [SEP]
    ids[1, 8:] = 0  # right-padded
    mask = (ids != 0).long()
    types = torch.zeros_like(ids)
    types[0, 6:] = 1
    types[1, 4:8] = 1
    ref = forward(CONFIG, w, ids, mask, types)

    # Cross-checks: the same forward in float32 (rounding only), and deliberate deviations that
    # the tolerance must catch.
    f32 = forward(CONFIG, w, ids, mask, types, dtype=torch.float32)
    controls = {
        "groups assigned round-robin (i % num_hidden_groups) instead of by block": dict(
            group_of=lambda i: i % CONFIG["num_hidden_groups"]),
        "only the first layer of each group (inner_group_num ignored)": dict(inner_layers=1),
        "one group for every layer (num_hidden_groups ignored)": dict(group_of=lambda i: 0),
    }
    negative = {}
    for name, kw in controls.items():
        got = forward(CONFIG, w, ids, mask, types, **kw)["last_hidden_state"]
        negative[name] = {"output": "last_hidden_state",
                          "max_abs_diff": round(max_diff(got, ref["last_hidden_state"]), 4),
                          "detected": breaks_tolerance(got, ref["last_hidden_state"])}

    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(out, "model.safetensors"), w)
    write_safetensors(os.path.join(out, "reference.safetensors"), {
        "input.input_ids": ids, "input.attention_mask": mask, "input.token_type_ids": types,
        "output.last_hidden_state": ref["last_hidden_state"].float(),
        "output.pooler_output": ref["pooler_output"].float()})
    spec = {
        "architecture": "AlbertModel",
        "model_type": "albert",
        "reference": f"tools/make_albert_groups_fixture.py: independent float64 forward in plain torch tensor ops "
                     f"(torch {torch.__version__}, Debian python3-torch), written from the semantics of HF's "
                     f"AlbertModel (modeling_albert.py), from the float32 weights in model.safetensors",
        "split": "shared",
        "seed": SEED,
        "inputs": [{"name": n, "dtype": "int64", "shape": [2, 12]}
                   for n in ("input.input_ids", "input.attention_mask", "input.token_type_ids")],
        "outputs": {
            "output.last_hidden_state": {"shape": [2, 12, 48], "atol": ATOL, "rtol": RTOL},
            "output.pooler_output": {"shape": [2, 48], "atol": ATOL, "rtol": RTOL},
        },
        "tolerance_rule": "|got - ref| <= atol + rtol * |ref| elementwise",
        "self_check": {
            "float32_rerun_max_abs_diff": {k: max_diff(f32[k].double(), ref[k]) for k in ref},
            "albert_tiny_cross_check": {
                "what": "this forward run on tests/data/models/albert-tiny (one group, outputs from a different "
                        "implementation): max abs difference from that fixture's reference outputs",
                "max_abs_diff": cross_check_single_group(os.path.dirname(os.path.abspath(out))),
            },
            "negative_controls": negative,
            "negative_controls_rule": "the float64 forward with one deliberate deviation; 'detected' = its output "
                                      "breaks this fixture's tolerance rule somewhere",
            "ok": all(c["detected"] for c in negative.values()),
        },
        "notes": "AlbertModel with num_hidden_layers 5, num_hidden_groups 2, inner_group_num 2: layer i runs group "
                 "int(i / (5 / 2)) = 0,0,0,1,1, and each run of a group applies its albert_layers.0 then "
                 "albert_layers.1 (so 10 layer applications over 4 distinct layers). Factorized embeddings "
                 "(embedding_size 16 -> embedding_hidden_mapping_in -> 48), gelu_new, pooler 'pooler.weight' + tanh "
                 "on token 0, two token-type segments, row 1 right-padded. config.json omits hidden_act, "
                 "layer_norm_eps, type_vocab_size and position_embedding_type (equal to AlbertConfig's defaults), so "
                 "the loader must fill them in.",
    }
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(spec, f, indent=2)
        f.write("\n")
    print(json.dumps(spec["self_check"], indent=2))


if __name__ == "__main__":
    main()
