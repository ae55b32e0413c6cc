#pragma once
// Helpers shared by the tests: where the data is, and running the CLI as a user would.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "models/causal_lm.h"
#include "runtime/loaded_model.h"

namespace accel::test {

inline std::string DataDir() { return ACCEL_TEST_DATA_DIR; }
inline std::string ModelDir(const std::string& name) { return DataDir() + "/models/" + name; }

struct CommandResult {
  int exit_code;
  std::string out;  // stdout and stderr together
};
// Runs `accel <args>` through the shell (args are already quoted by the caller).
CommandResult RunCli(const std::string& args);

// Runs a shell command line (stdout and stderr captured) under a time limit and, outside
// sanitizer builds, a 4 GB address-space limit: hostile inputs must fail fast and small.
CommandResult RunShell(const std::string& line, int timeout_s = 30);

// A fresh empty directory under the system temp dir, removed when the test program exits.
std::string MakeTempDir(const std::string& tag);

// A copy of a bundled fixture's config.json and model.safetensors in a fresh folder (so a test
// can add tokenizer files beside them).
std::string CopyModel(const std::string& name, const std::string& tag);
// llama-tiny with a word-level tokenizer where "wN" is token N (N < 256), and a chat template
// that writes the messages' contents as they are: "w1 w192" is exactly those ids.
std::string LlamaTinyWithWordTokenizer(const std::string& tag);
// bert-tiny with the bert-tiny WordPiece tokenizer of tests/data/test_tokenizers.
std::string BertTinyWithTokenizer(const std::string& tag);

// A decoder fixture's reference greedy generation: prompts (padding removed) and their new ids.
// A bundled decoder fixture, loaded; `lm` is its CausalLm side (expects both to succeed).
struct LoadedLm {
  std::unique_ptr<LoadedModel> model;
  CausalLm* lm = nullptr;
};
LoadedLm LoadCausalLm(const std::string& name);

struct GreedyReference {
  std::vector<std::vector<int64_t>> prompts, new_ids;
};
GreedyReference LoadGreedyReference(const std::string& model);

// n values uniform in [-scale, scale), the same for the same seed.
inline std::vector<float> RandomFloats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// An f32 tensor of RandomFloats.
inline Tensor RandomTensor(Shape shape, uint32_t seed, float scale = 1.0f) {
  Tensor t = Tensor::Zeros(DType::kF32, std::move(shape)).value();
  const std::vector<float> v = RandomFloats(t.numel(), seed, scale);
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

// Largest |a - b| over two f32 tensors of the same size.
inline float MaxAbsDiff(const Tensor& a, const Tensor& b) {
  float m = 0.0f;
  for (size_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(a.data<float>()[i] - b.data<float>()[i]));
  return m;
}

}  // namespace accel::test
