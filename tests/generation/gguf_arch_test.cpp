// GGUF architectures beyond llama: the qwen2 (q/k/v biases) and qwen3 (q/k norms, heads wider
// than hidden / heads, tied head) fixtures written as GGUF the way llama.cpp's converter lays
// them out (no q/k permutation: llama.cpp runs them with NEOX rope) reproduce their reference
// logits through LoadedModel::Load of the .gguf file.
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "formats/gguf.h"
#include "formats/gguf_model.h"
#include "formats/gguf_writer.h"
#include "formats/safetensors.h"
#include "runtime/loaded_model.h"
#include "test_util.h"

namespace accel {
namespace {

template <typename T>
T Must(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(*r);
}

TEST(GgufArch, QwenFixturesReproduceTheirReferenceLogits) {
  for (const std::string name : {"qwen2-tiny", "qwen3-tiny"}) {
    const std::string dir = test::ModelDir(name);
    HfConfig config = Must(HfConfig::Load(dir + "/config.json"));
    WeightStore weights = Must(WeightStore::Open(dir));
    const std::string tmp = test::MakeTempDir("gguf-arch"), path = tmp + "/" + name + ".gguf";
    Status s = WriteLlamaGguf(path, config, weights, GgufExportOptions{});
    ASSERT_TRUE(s.ok()) << name << ": " << s.message();
    auto model = Must(LoadedModel::Load(path));
    EXPECT_EQ(model->gguf()->metadata()["general.architecture"], name.substr(0, 5));
    EXPECT_EQ(model->config().model_type(), name.substr(0, 5));
    auto ref = Must(SafetensorsFile::Open(dir + "/reference.safetensors"));
    TensorMap in = {{"input_ids", Must(ref->Get("input.input_ids"))}, {"attention_mask", Must(ref->Get("input.attention_mask"))}};
    auto out = Must(model->Run(in));
    const Tensor got = out.at("logits"), want = Must(ref->Get("output.logits"));
    ASSERT_EQ(got.shape(), want.shape());
    double diff = 0;
    for (size_t i = 0; i < got.numel(); ++i) diff = std::max(diff, double(std::fabs(got.data<float>()[i] - want.data<float>()[i])));
    EXPECT_LT(diff, 1e-4) << name;
    std::filesystem::remove_all(tmp);
  }
}

TEST(GgufArch, UnsupportedArchitecturesAreNamed) {
  // gemma's GGUF norms carry the +1 that HF adds at run time, and phi3 fuses q/k/v: not mapped yet.
  const std::string tmp = test::MakeTempDir("gguf-arch"), path = tmp + "/x.gguf";
  ASSERT_TRUE(WriteGguf(path, {{"general.architecture", "gemma"}}, {}).ok());
  auto parts = GgufToHf(*Must(GgufFile::Open(path)));
  ASSERT_FALSE(parts.ok());
  EXPECT_NE(parts.status().message().find("'gemma' (supported: llama, qwen2, qwen3)"), std::string::npos) << parts.status().message();
  std::filesystem::remove_all(tmp);
}

}  // namespace
}  // namespace accel
