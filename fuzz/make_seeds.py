#!/usr/bin/env python3
"""Writes the generated fuzz seeds of issue 22 (nested tokenizer.json, GGUF metadata, Jinja
budgets, resampler, stats file) under fuzz/seeds/. Each stays a few KB at most; run it again to
regenerate them: python3 fuzz/make_seeds.py"""
import json
import os
import struct

SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


def write(target, name, data):
    os.makedirs(os.path.join(SEEDS, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(SEEDS, target, name), "wb") as f:
        f.write(data)


# ---- tokenizer.json: Sequence normalizers, pre-tokenizers and decoders nested deeply ----------
def nested(kind, key, leaf, depth):
    node = leaf
    for _ in range(depth):
        node = {"type": "Sequence", key: [node]}
    return node


def tokenizer(depth, normalizer_depth=None):
    vocab = {"[UNK]": 0, "hello": 1, "world": 2, "h": 3, "e": 4}
    return {"version": "1.0", "added_tokens": [], "truncation": None, "padding": None,
            "normalizer": nested("normalizer", "normalizers", {"type": "Lowercase"}, normalizer_depth or depth),
            "pre_tokenizer": nested("pre_tokenizer", "pretokenizers", {"type": "Whitespace"}, depth),
            "decoder": nested("decoder", "decoders", {"type": "Fuse"}, depth),
            "post_processor": None,
            "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}}


# Within the JSON depth limit (128): the recursive builders run 30 levels deep.
write("tokenizer_json", "nested_sequences.json", json.dumps(tokenizer(30), separators=(",", ":")))
# Past it (70 Sequences are 140 JSON levels): refused right after parsing, before any builder recurses.
write("tokenizer_json", "nested_too_deep.json", json.dumps(tokenizer(1, normalizer_depth=70), separators=(",", ":")))


# ---- GGUF: typed metadata, arrays, a tiny llama with its tokenizer -----------------------------
def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


SCALAR = {"u8": (0, "<B"), "i8": (1, "<b"), "u16": (2, "<H"), "i16": (3, "<h"), "u32": (4, "<I"),
          "i32": (5, "<i"), "f32": (6, "<f"), "bool": (7, "<?"), "u64": (10, "<Q"), "i64": (11, "<q"),
          "f64": (12, "<d")}


def gguf_value(kind, value):
    if kind == "str":
        return struct.pack("<I", 8) + gguf_string(value)
    if kind.startswith("arr:"):
        elem = kind[4:]
        body = b"".join(gguf_value(elem, v)[4:] for v in value)
        # Nested arrays: each element is an array value (its element type, count, elements).
        code = 8 if elem == "str" else 9 if elem.startswith("arr:") else SCALAR[elem][0]
        return struct.pack("<IIQ", 9, code, len(value)) + body
    code, fmt = SCALAR[kind]
    return struct.pack("<I", code) + struct.pack(fmt, value)


def gguf(metadata, tensors):
    """metadata: [(key, kind, value)]; tensors: [(name, dims innermost first, f32 values)]"""
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata))
    for key, kind, value in metadata:
        out += gguf_string(key) + gguf_value(kind, value)
    offset, data = 0, b""
    for name, dims, values in tensors:
        out += gguf_string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", 0, offset)  # ggml type 0 = f32
        blob = b"".join(struct.pack("<f", v) for v in values)
        blob += b"\0" * (-len(blob) % 32)
        data += blob
        offset += len(blob)
    out += b"\0" * (-len(out) % 32)
    return out + data


hidden, vocab_tokens = 4, ["<unk>", "<s>", "</s>", "\u2581hello", "\u2581world", "a", "b", "c"]
llama_md = [("general.architecture", "str", "llama"), ("general.name", "str", "seed"),
            ("llama.embedding_length", "u32", hidden), ("llama.block_count", "u32", 1),
            ("llama.feed_forward_length", "u32", 8), ("llama.context_length", "u32", 64),
            ("llama.attention.head_count", "u32", 2), ("llama.attention.head_count_kv", "u32", 1),
            ("llama.attention.layer_norm_rms_epsilon", "f32", 1e-5), ("llama.rope.freq_base", "f32", 10000.0),
            ("tokenizer.ggml.model", "str", "llama"), ("tokenizer.ggml.tokens", "arr:str", vocab_tokens),
            ("tokenizer.ggml.scores", "arr:f32", [0.0, 0.0, 0.0, -1.0, -2.0, -3.0, -4.0, -5.0]),
            ("tokenizer.ggml.token_type", "arr:i32", [2, 3, 3, 1, 1, 1, 1, 1]),
            ("tokenizer.ggml.bos_token_id", "u32", 1), ("tokenizer.ggml.eos_token_id", "u32", 2),
            ("tokenizer.chat_template", "str", "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}")]
ramp = lambda n: [0.01 * i for i in range(n)]
llama_tensors = [("token_embd.weight", [hidden, len(vocab_tokens)], ramp(hidden * len(vocab_tokens))),
                 ("output_norm.weight", [hidden], [1.0] * hidden),
                 ("blk.0.attn_norm.weight", [hidden], [1.0] * hidden),
                 ("blk.0.attn_q.weight", [hidden, hidden], ramp(hidden * hidden)),
                 ("blk.0.attn_k.weight", [hidden, 2], ramp(hidden * 2)),
                 ("blk.0.attn_v.weight", [hidden, 2], ramp(hidden * 2)),
                 ("blk.0.attn_output.weight", [hidden, hidden], ramp(hidden * hidden)),
                 ("blk.0.ffn_norm.weight", [hidden], [1.0] * hidden),
                 ("blk.0.ffn_gate.weight", [hidden, 8], ramp(hidden * 8)),
                 ("blk.0.ffn_up.weight", [hidden, 8], ramp(hidden * 8)),
                 ("blk.0.ffn_down.weight", [8, hidden], ramp(hidden * 8))]
write("gguf", "llama_tiny.gguf", gguf(llama_md, llama_tensors))
# Every metadata value type, nested arrays, a long layer name and hostile hyper-parameters.
write("gguf", "metadata_types.gguf", gguf(
    [("general.architecture", "str", "qwen2")] +
    [("t." + k, k, 1 if k != "bool" else True) for k in SCALAR] +
    [("t.arr_u8", "arr:u8", [1, 2, 3]), ("t.arr_i64", "arr:i64", [-1, 2**40]), ("t.arr_f64", "arr:f64", [1.5, -0.0]),
     ("t.arr_bool", "arr:bool", [True, False]), ("t.nested", "arr:arr:u16", [[1, 2], [3]]),
     ("qwen2.embedding_length", "u64", 2**40), ("qwen2.block_count", "i32", -1),
     ("qwen2.context_length", "u32", 2**31), ("qwen2.attention.head_count", "u32", 0),
     ("qwen2.rope.freq_base", "f32", float("nan"))],
    [("blk.1." + "x" * 300, [2], [0.0, 1.0]), ("token_embd.weight", [2, 2], [0.0] * 4)]))
# An importance matrix (formats/imatrix_file.h): per-column means, one of them negative.
write("gguf", "imatrix.gguf", gguf(
    [("general.type", "str", "imatrix"), ("imatrix.chunk_count", "u32", 2), ("imatrix.chunk_size", "u32", 64),
     ("imatrix.dataset", "str", "calib.txt")],
    [("model.layers.0.mlp.down_proj.weight", [8], ramp(8)), ("lm_head.weight", [4], [1.0, -1.0, 0.5, 2.0])]))


# ---- Jinja: runaway loops, growing values, macros ----------------------------------------------
write("jinja", "chat.jinja", "{{ bos_token }}{% for m in messages %}{% if m.role == 'user' %}[INST] {{ m.content | trim }} "
      "[/INST]{% else %}{{ m.content }}{{ eos_token }}{% endif %}{% endfor %}"
      "{% if add_generation_prompt %}<|assistant|>{% endif %}")
write("jinja", "nested_loops.jinja", "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}")
write("jinja", "doubling.jinja", "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
      "{% endfor %}{{ ns.s | length }}")
write("jinja", "growth.jinja", "{{ ('x' * 1000) | replace('x', 'yy' * 1000) }}{{ range(1000) | join('-' * 100) }}")
write("jinja", "macro.jinja", "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(30) }}")


# ---- Resampler: 4-byte from-rate, 4-byte to-rate, then 16-bit PCM ------------------------------
def resample_seed(src, dst, n):
    return struct.pack("<ii", src, dst) + b"".join(struct.pack("<h", (i * 2731) % 65536 - 32768) for i in range(n))


write("resample", "48k_to_16k.bin", resample_seed(48000, 16000, 480))
write("resample", "1hz_to_16k.bin", resample_seed(1, 16000, 64))  # over the cap: refused before allocating
write("resample", "16k_to_1hz.bin", resample_seed(16000, 1, 256))
write("resample", "zero_rate.bin", resample_seed(0, 16000, 8))


# ---- API stats file ----------------------------------------------------------------------------
cell = {"provider": "openai", "model": "gpt-4o", "endpoint": "/v1/chat/completions", "key": "k1", "attempts": 3,
        "successes": 2, "retries": 1, "errors": {"rate_limited": 1}, "prompt_tokens": 10, "completion_tokens": 20,
        "p50_us": 1500.0, "p99_us": 3000.0, "histogram": [[80, 2], [88, 1]]}
write("stats_file", "two_cells.json", json.dumps({"cells": [cell, dict(cell, key="k2", histogram=[[319, 1]])]}))
huge = dict(cell, model="model", provider="fuzz", endpoint="/v1/chat", attempts=2**64 - 1, successes=2**64 - 1,
            prompt_tokens=2**63 - 1, completion_tokens=2**64 - 1, histogram=[[0, 2**64 - 1], [-1, 5], [320, 1]])
write("stats_file", "huge_counts.json", json.dumps({"cells": [huge, huge]}))
