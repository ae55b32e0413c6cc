// GGUF writer: what GgufWriter writes, GgufFile reads back bit for bit (typed metadata, every
// tensor dtype, alignment); the llama exporter writes llama.cpp's names, key types and rotary
// row order, and reading its file back gives the same model (logits of the llama-tiny fixture).
#include <cmath>
#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "core/half.h"
#include "formats/gguf.h"
#include "formats/gguf_model.h"
#include "formats/gguf_writer.h"
#include "formats/quant.h"
#include "formats/safetensors.h"
#include "runtime/loaded_model.h"
#include "generation/llama_tiny_gguf.h"
#include "test_util.h"

namespace accel {
namespace {
using test_gguf::MustOk;

Tensor RandomF32(Shape s, uint32_t seed) {
  Tensor t = MustOk(Tensor::Zeros(DType::kF32, std::move(s)));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-2, 2);
  for (size_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

Tensor To16(const Tensor& f, DType to) {
  Tensor t = MustOk(Tensor::Zeros(to, f.shape()));
  for (size_t i = 0; i < f.numel(); ++i) {
    t.data<uint16_t>()[i] = to == DType::kF16 ? F32ToF16(f.data<float>()[i]) : F32ToBf16(f.data<float>()[i]);
  }
  return t;
}

TEST(GgufWriter, RoundTripsTypedMetadataAndEveryTensorDtype) {
  const Tensor f = RandomF32({3, 64}, 1);
  const std::vector<std::pair<std::string, Tensor>> tensors = {
      {"a.f32", RandomF32({5}, 2)},                              // 20 bytes: the next one needs padding
      {"b.f16", To16(f, DType::kF16)},
      {"c.bf16", To16(f, DType::kBF16)},
      {"d.q8_0", MustOk(quant::Quantize(f, DType::kQ8_0))},
      {"e.q4_0", MustOk(quant::Quantize(f, DType::kQ4_0))},
      {"f.rank3", RandomF32({2, 3, 4}, 3)}};
  GgufWriter w;
  w.SetString("general.architecture", "test").SetU32("n.u32", 7).SetI32("n.i32", -7).SetI64("n.i64", -(1ll << 40));
  w.SetF32("n.f32", 0.25f).SetBool("flag", true);
  w.SetStrings("list.s", {"<unk>", "\xe2\x96\x81hi", ""}).SetF32s("list.f", {1.5f, -2.0f}).SetI32s("list.i", {1, -3, 6});
  ASSERT_TRUE(w.SetAlignment(64).ok());
  for (const auto& [name, t] : tensors) ASSERT_TRUE(w.AddTensor(name, t).ok());
  const std::string path = test::MakeTempDir("gguf-writer") + "/rt.gguf";
  ASSERT_TRUE(w.Write(path).ok());

  auto file = MustOk(GgufFile::Open(path));
  const auto& md = file->metadata();
  EXPECT_EQ(md["general.architecture"], "test");
  EXPECT_EQ(md["n.u32"], 7);
  EXPECT_EQ(md["n.i32"], -7);
  EXPECT_EQ(md["n.i64"].get<int64_t>(), -(1ll << 40));
  EXPECT_EQ(md["n.f32"].get<float>(), 0.25f);
  EXPECT_EQ(md["flag"], true);
  EXPECT_EQ(md["list.s"], nlohmann::json({"<unk>", "\xe2\x96\x81hi", ""}));
  EXPECT_EQ(md["list.f"], nlohmann::json({1.5, -2.0}));
  EXPECT_EQ(md["list.i"], nlohmann::json({1, -3, 6}));
  EXPECT_EQ(md["general.alignment"], 64);
  EXPECT_EQ(file->metadata_type("n.u32"), 4);
  EXPECT_EQ(file->metadata_type("n.i32"), 5);
  EXPECT_EQ(file->metadata_type("n.f32"), 6);
  EXPECT_EQ(file->metadata_type("n.i64"), 11);
  EXPECT_EQ(file->metadata_type("list.s"), 9);
  EXPECT_EQ(file->metadata_type("missing"), -1);
  ASSERT_EQ(file->tensors().size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    const GgufTensorInfo& info = file->tensors().at(name);
    EXPECT_EQ(info.offset % 64, 0u) << name;
    Tensor got = MustOk(file->Get(name));
    EXPECT_EQ(got.dtype(), t.dtype()) << name;
    EXPECT_EQ(got.shape(), t.shape()) << name;
    ASSERT_EQ(got.nbytes(), t.nbytes()) << name;
    EXPECT_EQ(std::memcmp(got.raw(), t.raw(), t.nbytes()), 0) << name;
  }
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(GgufWriter, RejectsDuplicatesAndUnwritableInput) {
  GgufWriter w;
  w.SetU32("k", 1).SetU32("k", 2);
  const std::string dir = test::MakeTempDir("gguf-writer");
  Status s = w.Write(dir + "/dup.gguf");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'k' set twice"), std::string::npos) << s.message();
  GgufWriter t;
  ASSERT_TRUE(t.AddTensor("x", RandomF32({4}, 1)).ok());
  EXPECT_FALSE(t.AddTensor("x", RandomF32({4}, 1)).ok());
  EXPECT_FALSE(t.AddTensor("ids", MustOk(Tensor::Zeros(DType::kI64, {4}))).ok());
  EXPECT_FALSE(t.SetAlignment(48).ok());
  EXPECT_FALSE(t.SetJson("mixed", nlohmann::json::array({1, "a"})).ok());
  EXPECT_FALSE(t.Write(dir + "/no-such-dir/x.gguf").ok());
  std::filesystem::remove_all(dir);
}

TEST(GgufExport, LlamaFileHasLlamaCppNamesTypesAndRowOrder) {
  const std::string dir = test::ModelDir("llama-tiny");
  HfConfig config = MustOk(HfConfig::Load(dir + "/config.json"));
  WeightStore weights = MustOk(WeightStore::Open(dir));
  GgufExportOptions o;
  o.placeholder_vocab = true;
  const std::string path = test::MakeTempDir("gguf-export") + "/llama.gguf";
  ASSERT_TRUE(WriteLlamaGguf(path, config, weights, o).ok());
  auto file = MustOk(GgufFile::Open(path));
  for (const char* key : {"llama.context_length", "llama.embedding_length", "llama.block_count", "llama.feed_forward_length",
                          "llama.attention.head_count", "llama.attention.head_count_kv", "llama.rope.dimension_count",
                          "general.alignment", "general.file_type", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"}) {
    EXPECT_EQ(file->metadata_type(key), 4) << key << " must be u32 for llama.cpp";
  }
  EXPECT_EQ(file->metadata_type("llama.attention.layer_norm_rms_epsilon"), 6);
  EXPECT_EQ(file->metadata_type("llama.rope.freq_base"), 6);
  EXPECT_EQ(file->metadata()["llama.embedding_length"], 64);
  EXPECT_EQ(file->metadata()["llama.rope.dimension_count"], 16);
  const auto& tokens = file->metadata()["tokenizer.ggml.tokens"];
  ASSERT_EQ(tokens.size(), 256u);
  EXPECT_EQ(tokens[1], "<s>");
  EXPECT_EQ(tokens[3], "<0x00>");
  EXPECT_EQ(file->metadata()["tokenizer.ggml.token_type"][3], 6);
  EXPECT_EQ(file->tensors().size(), 2u + 2 * 9 + 1);
  // q rows: head h, pair i -> rows h*16 + 2i (first half of the HF head) and h*16 + 2i + 1.
  auto st = MustOk(SafetensorsFile::Open(dir + "/model.safetensors"));
  Tensor hf = MustOk(st->Get("model.layers.1.self_attn.q_proj.weight"));
  Tensor gg = MustOk(file->Get("blk.1.attn_q.weight"));
  for (int64_t h : {0, 3}) {
    for (int64_t i : {0, 7}) {
      for (int64_t half : {0, 1}) {
        EXPECT_EQ(std::memcmp(gg.data<float>() + (h * 16 + 2 * i + half) * 64, hf.data<float>() + (h * 16 + half * 8 + i) * 64,
                              64 * sizeof(float)), 0);
      }
    }
  }
  Tensor v_hf = MustOk(st->Get("model.layers.0.self_attn.v_proj.weight"));
  EXPECT_EQ(std::memcmp(MustOk(file->Get("blk.0.attn_v.weight")).raw(), v_hf.raw(), v_hf.nbytes()), 0);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

// HF folder -> GGUF -> the engine: the same logits as the fixture's reference (f32), and the
// 16-bit files stay within their rounding (measured: bf16 0.105, f16 0.019 on logits up to 8).
TEST(GgufExport, RoundTripReproducesTheModel) {
  auto ref = MustOk(SafetensorsFile::Open(test::ModelDir("llama-tiny") + "/reference.safetensors"));
  TensorMap in = {{"input_ids", MustOk(ref->Get("input.input_ids"))}, {"attention_mask", MustOk(ref->Get("input.attention_mask"))}};
  Tensor want = MustOk(ref->Get("output.logits"));
  for (auto [dtype, tol] : {std::pair{DType::kF32, 1e-4}, std::pair{DType::kBF16, 0.2}, std::pair{DType::kF16, 0.04}}) {
    const std::string path = test_gguf::WriteLlamaTinyGguf(dtype);
    auto file = MustOk(GgufFile::Open(path));
    EXPECT_EQ(MustOk(file->Get("blk.0.ffn_up.weight")).dtype(), dtype);
    auto parts = MustOk(GgufToHf(*file));
    auto model = MustOk(LoadedModel::FromParts(std::move(parts.config), std::move(parts.weights), {}));
    auto out = MustOk(model->Run(in));
    const Tensor& got = out.at("logits");
    ASSERT_EQ(got.shape(), want.shape());
    double diff = 0;
    for (size_t i = 0; i < got.numel(); ++i) diff = std::max(diff, std::fabs(double(got.data<float>()[i]) - want.data<float>()[i]));
    EXPECT_LT(diff, tol) << Name(dtype);
    std::filesystem::remove_all(std::filesystem::path(path).parent_path());
  }
}

}  // namespace
}  // namespace accel
