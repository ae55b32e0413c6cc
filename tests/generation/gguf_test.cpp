// GGUF: a file written from the llama-tiny fixture the way llama.cpp's converter lays it out
// (q/k rows permuted for adjacent-pair RoPE) reproduces the safetensors logits (f32) and stays
// within a documented tolerance when quantized (Q8_0, Q4_0); corrupt files are clean errors.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "formats/gguf.h"
#include "formats/gguf_model.h"
#include "formats/quant.h"
#include "formats/safetensors.h"
#include "runtime/loaded_model.h"
#include "test_util.h"
#include "generation/llama_tiny_gguf.h"

namespace accel {
namespace {
using test_gguf::WriteLlamaTinyGguf;

template <typename T>
T Must(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(*r);
}

struct Logits {
  Tensor got, ref;
};

Logits RunGguf(const std::string& path) {
  auto file = GgufFile::Open(path);
  EXPECT_TRUE(file.ok()) << file.status().message();
  auto parts = GgufToHf(**file);
  EXPECT_TRUE(parts.ok()) << parts.status().message();
  auto model = LoadedModel::FromParts(std::move(parts->config), std::move(parts->weights), {});
  EXPECT_TRUE(model.ok()) << model.status().message();
  auto ref = SafetensorsFile::Open(test::ModelDir("llama-tiny") + "/reference.safetensors");
  TensorMap in = {{"input_ids", Must((*ref)->Get("input.input_ids"))}, {"attention_mask", Must((*ref)->Get("input.attention_mask"))}};
  auto out = (*model)->Run(in);
  EXPECT_TRUE(out.ok()) << out.status().message();
  return {out->at("logits"), Must((*ref)->Get("output.logits"))};
}

double MaxAbsDiff(const Tensor& a, const Tensor& b) {
  double m = 0;
  for (size_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(double(a.data<float>()[i]) - b.data<float>()[i]));
  return m;
}

TEST(Gguf, F32ReproducesTheReferenceLogitsAndGreedyIds) {
  const std::string path = WriteLlamaTinyGguf(DType::kF32);
  Logits l = RunGguf(path);
  ASSERT_EQ(l.got.shape(), l.ref.shape());
  EXPECT_LT(MaxAbsDiff(l.got, l.ref), 1e-4);
  auto r = test::RunCli("generate -m " + path + " --prompt-ids 1,192,108,182,223,91 -n 8");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("176 62 85 65 125 27 210 200\n", 0), 0u) << r.out;
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

// Documented tolerances (docs/GENERATION.md): llama-tiny's logits reach |8.1| (std 2.0); with
// every projection quantized (and activations quantized to int8 per block, as the integer
// kernels do), Q8_0 moves them by at most 0.56 (measured) and Q4_0 by 6.1 (its x^2-weighted
// scale search; 4.1 when rounded to nearest, `quantize --rtn`). The bounds leave ~50% headroom;
// the activation part alone is the next test.
TEST(Gguf, QuantizedWeightsStayWithinTolerance) {
  for (auto [dtype, tol] : {std::pair{DType::kQ8_0, 0.8}, std::pair{DType::kQ4_0, 9.0}}) {
    const std::string path = WriteLlamaTinyGguf(dtype);
    Logits l = RunGguf(path);
    const double diff = MaxAbsDiff(l.got, l.ref);
    EXPECT_LT(diff, tol) << Name(dtype);
    EXPECT_GT(diff, 1e-6) << Name(dtype) << ": quantization should change something";
    std::filesystem::remove_all(std::filesystem::path(path).parent_path());
  }
}

// The quantized Linear differs from f32 Linear on the dequantized weights only by rounding the
// activations to int8 per block of 32 (1/254 of the block's largest value at most): measured
// 0.33 (Q8_0) and 0.44 (Q4_0) on logits reaching |8|; the kernels' own arithmetic is checked
// exactly in tests/ops/decode_kernels_test.cpp.
TEST(Gguf, QuantizedKernelsTrackF32OnDequantizedWeights) {
  for (DType dtype : {DType::kQ8_0, DType::kQ4_0}) {
    const std::string q = WriteLlamaTinyGguf(dtype), f = WriteLlamaTinyGguf(dtype, true);
    EXPECT_LT(MaxAbsDiff(RunGguf(q).got, RunGguf(f).got), 0.7) << Name(dtype);
    std::filesystem::remove_all(std::filesystem::path(q).parent_path());
    std::filesystem::remove_all(std::filesystem::path(f).parent_path());
  }
}

std::string ReadAll(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

Status ParseBytes(const std::string& b) {
  auto f = GgufFile::Parse(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "bad.gguf", nullptr);
  if (!f.ok()) return f.status();
  return GgufToHf(**f).status();
}

TEST(Gguf, CorruptFilesAreCleanErrors) {
  const std::string path = WriteLlamaTinyGguf(DType::kQ8_0);
  const std::string good = ReadAll(path);
  ASSERT_TRUE(ParseBytes(good).ok());
  auto expect_error = [&](std::string bytes, const std::string& words) {
    Status s = ParseBytes(bytes);
    EXPECT_FALSE(s.ok()) << words;
    EXPECT_NE(s.message().find(words), std::string::npos) << s.message();
  };
  std::string b = good;
  b[0] = 'X';
  expect_error(b, "bad magic");
  b = good;
  b[4] = 9;
  expect_error(b, "GGUF version 9");
  b = good;
  const uint64_t huge = 1ull << 60;
  std::memcpy(&b[8], &huge, 8);
  expect_error(b, "tensor count");
  b = good;
  std::memcpy(&b[16], &huge, 8);
  expect_error(b, "metadata count");
  b = good;
  std::memcpy(&b[24], &huge, 8);  // length of the first key
  expect_error(b, "runs past the end");
  // The first tensor's ggml type: find its name, skip rank and dims.
  b = good;
  size_t at = b.find("token_embd.weight");
  ASSERT_NE(at, std::string::npos);
  at += std::string("token_embd.weight").size();
  uint32_t rank = 0;
  std::memcpy(&rank, &b[at], sizeof rank);  // unaligned in the file
  const size_t type_at = at + 4 + 8 * rank;
  b[type_at] = 77;
  expect_error(b, "ggml type 77");
  b = good;
  const uint64_t far = 1ull << 40;
  std::memcpy(&b[type_at + 4], &far, 8);
  expect_error(b, "runs past the end of the file");
  // Every truncation is an error, never a crash.
  for (size_t n = 0; n < good.size(); n += 97) EXPECT_FALSE(ParseBytes(good.substr(0, n)).ok()) << n;
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

}  // namespace
}  // namespace accel
