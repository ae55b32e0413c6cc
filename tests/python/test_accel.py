"""The Python module (`import accel`) against the bundled fixtures' references."""
import json
import os
import shutil
import struct
import threading

import numpy as np
import pytest

import accel

DATA = os.environ["ACCEL_TEST_DATA_DIR"]
MODELS = os.path.join(DATA, "models")


def read_safetensors(path):
    """The named tensors of a .safetensors file as numpy arrays (the format is a JSON header)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    dtypes = {"F32": np.float32, "I64": np.int64, "I32": np.int32}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(body[begin:end], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return out


def copy_model(name, tmp_path):
    d = tmp_path / name
    d.mkdir()
    for f in ("config.json", "model.safetensors"):
        shutil.copy(os.path.join(MODELS, name, f), d / f)
    return d


@pytest.fixture
def bert_with_tokenizer(tmp_path):
    d = copy_model("bert-tiny", tmp_path)
    shutil.copy(os.path.join(DATA, "test_tokenizers", "bert-tiny-wordpiece.json"), d / "tokenizer.json")
    return str(d)


@pytest.fixture
def llama_with_tokenizer(tmp_path):
    """llama-tiny with a word-level tokenizer: "wN" is token N."""
    d = copy_model("llama-tiny", tmp_path)
    vocab = {f"w{i}": i for i in range(256)}
    tok = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
           "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": None, "decoder": None,
           "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "w0"}}
    (d / "tokenizer.json").write_text(json.dumps(tok))
    (d / "tokenizer_config.json").write_text(json.dumps({"chat_template": "{% for m in messages %}{{ m['content'] }}{% endfor %}"}))
    return str(d)


def greedy_reference(name):
    ref = read_safetensors(os.path.join(MODELS, name, "reference.safetensors"))
    ids, mask, out = ref["generate.input_ids"], ref["generate.attention_mask"], ref["generate.output_ids"]
    rows = []
    for b in range(ids.shape[0]):
        prompt = [int(t) for t, m in zip(ids[b], mask[b]) if m]
        rows.append((prompt, [int(t) for t in out[b, ids.shape[1]:]]))
    return rows


def test_run_matches_the_reference_without_copies():
    m = accel.load(os.path.join(MODELS, "bert-tiny"))
    assert m.info["model_type"] == "bert"
    ref = read_safetensors(os.path.join(MODELS, "bert-tiny", "reference.safetensors"))
    inputs = {k[len("input."):]: v for k, v in ref.items() if k.startswith("input.")}
    out = m.run(inputs)
    got = out["last_hidden_state"]
    assert got.dtype == np.float32 and got.shape == ref["output.last_hidden_state"].shape
    np.testing.assert_allclose(got, ref["output.last_hidden_state"], atol=1e-4, rtol=1e-4)
    # The output is a view of the engine's tensor, not a copy.
    assert got.base is not None and not got.flags["OWNDATA"]


def test_bad_inputs_raise_the_engine_message():
    m = accel.load(os.path.join(MODELS, "bert-tiny"))
    with pytest.raises(accel.Error, match="input_ids"):
        m.run({"attention_mask": np.ones((1, 4), dtype=np.int64)})
    with pytest.raises(accel.Error, match="float64|dtype"):
        m.run({"input_ids": np.ones((1, 4), dtype=np.float64)})
    with pytest.raises(accel.Error, match="nonexistent"):
        accel.load("/nonexistent/model")
    with pytest.raises(accel.Error, match="tokenizer"):
        m.tokenize("no tokenizer here")
    with pytest.raises(accel.Error, match="needs .* but this machine has 1.0 KiB"):
        accel.load(os.path.join(MODELS, "bert-tiny"), memory_limit="1K")


def test_embed_and_tokenize(bert_with_tokenizer):
    m = accel.load(bert_with_tokenizer)
    ids = m.tokenize("hello world")
    assert len(ids) >= 3
    assert m.detokenize(ids) == "hello world"
    e = m.embed(["hello world", "the cat sat"])
    assert e.shape[0] == 2 and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    raw = m.embed(["hello world"], normalize=False)
    np.testing.assert_allclose(raw[0] / np.linalg.norm(raw[0]), e[0], atol=1e-5)


def test_greedy_generation_equals_the_reference():
    m = accel.load(os.path.join(MODELS, "llama-tiny"))
    assert m.info["generates"]
    for prompt, new_ids in greedy_reference("llama-tiny"):
        assert m.generate(prompt, max_new_tokens=len(new_ids), return_ids=True) == new_ids
        assert m.generate(prompt, max_new_tokens=len(new_ids)) == ""  # no tokenizer: no text


def test_generate_and_stream_text(llama_with_tokenizer):
    m = accel.load(llama_with_tokenizer)
    prompt, new_ids = greedy_reference("llama-tiny")[0]
    prompt_text = " ".join(f"w{t}" for t in prompt)
    text = m.generate(prompt_text, max_new_tokens=len(new_ids), chat=True)
    assert text.split() == [f"w{t}" for t in new_ids]
    pieces = list(m.stream(prompt_text, max_new_tokens=len(new_ids), chat=True))
    assert len(pieces) == len(new_ids)
    assert "".join(pieces) == text
    # Dropping a stream part-way stops its generation; the model stays usable.
    s = m.stream(prompt_text, max_new_tokens=50, chat=True)
    next(s)
    del s
    assert m.generate(prompt_text, max_new_tokens=len(new_ids), chat=True) == text


def test_compute_releases_the_gil(bert_with_tokenizer):
    m = accel.load(bert_with_tokenizer)
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(1)
            done.wait(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    for _ in range(50):
        m.embed(["hello world " * 8] * 4)
    done.set()
    t.join()
    assert len(ticks) > 1


def test_hw_verify_select():
    h = accel.hw()
    assert "cpu" in h
    r = accel.verify(os.path.join(MODELS, "gpt2-tiny"))
    assert r["ok"] and r["model_type"] == "gpt2"
    s = accel.select(os.path.join(MODELS, "bert-tiny"), batch=1, seq=32)
    assert s["candidates"][0]["rank"] == 1
    with pytest.raises(accel.Error):
        accel.select(os.path.join(MODELS, "bert-tiny"), batch=0)
