// Importance matrices: the Linear observer's sums against a hand computation, the file format
// and its refusals, collection over llama-tiny, and `accel imatrix` + `accel quantize
// --imatrix` end to end (with the one-line errors for a corrupt file and mismatched names).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "backends/cpu/cpu_backend.h"
#include "core/thread_pool.h"
#include "formats/gguf_writer.h"
#include "formats/imatrix_file.h"
#include "graph/exec.h"
#include "runtime/imatrix.h"
#include "runtime/loaded_model.h"
#include "test_util.h"

namespace accel {
namespace {

Tensor FromRows(const std::vector<std::vector<float>>& rows) {
  const int64_t r = static_cast<int64_t>(rows.size()), c = static_cast<int64_t>(rows[0].size());
  Tensor t = Tensor::Zeros(DType::kF32, {r, c}).value();
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) t.data<float>()[i * c + j] = rows[i][j];
  return t;
}

// A fused Linear of two sources over 4 inputs, run twice through an Exec with the collector
// installed: each source gets E[x_j^2] over all 5 rows, worked out by hand.
TEST(Imatrix, CollectorMeansEqualAHandComputation) {
  CpuBackend cpu(ThreadPool::Global());
  Arena arena;
  Exec exec(cpu, arena);
  LinearLayer layer;
  layer.weight = cpu.PackLinear(test::RandomTensor({6, 4}, 1), DType::kF32).value();
  layer.sources = {"a.weight", "b.weight"};
  LinearLayer unnamed;  // built from a computed tensor: not recorded
  unnamed.weight = layer.weight;
  ImatrixCollector c;
  exec.set_linear_observer(&c);
  ASSERT_TRUE(exec.Linear(FromRows({{1, 2, 3, 4}, {0, -1, 2, 0}, {2, 0, 0, 1}}), layer).ok());
  ASSERT_TRUE(exec.Linear(FromRows({{-1, 1, 1, 2}, {0, 0, -3, 1}}), layer).ok());
  ASSERT_TRUE(exec.Linear(FromRows({{9, 9, 9, 9}}), unnamed).ok());
  exec.set_linear_observer(nullptr);
  ASSERT_TRUE(exec.Linear(FromRows({{7, 7, 7, 7}}), layer).ok());  // observer off: not seen
  const Imatrix m = c.Means(2, 3, "hand");
  ASSERT_EQ(m.values.size(), 2u);
  // Column sums of squares: (1+0+4+1+0, 4+1+0+1+0, 9+4+0+1+9, 16+0+1+4+1) over 5 rows.
  const std::vector<float> want = {6.0f / 5, 6.0f / 5, 23.0f / 5, 22.0f / 5};
  for (const char* name : {"a.weight", "b.weight"}) {
    ASSERT_EQ(m.values.at(name).size(), 4u);
    for (int j = 0; j < 4; ++j) EXPECT_FLOAT_EQ(m.values.at(name)[j], want[j]) << name << " column " << j;
  }
  EXPECT_EQ(m.chunk_count, 2);
}

TEST(Imatrix, FileRoundTripsAndRefusesWhatItIsNot) {
  const std::string dir = test::MakeTempDir("imatrix-file");
  Imatrix m;
  m.values["model.layers.0.mlp.down_proj.weight"] = {0.5f, 1.0f, 2.0f};
  m.values["lm_head.weight"] = {3.0f, 0.0f};
  m.chunk_count = 4, m.chunk_size = 64, m.dataset = "calib.txt";
  ASSERT_TRUE(WriteImatrix(dir + "/a.imatrix", m).ok());
  auto back = ReadImatrix(dir + "/a.imatrix");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->values, m.values);
  EXPECT_EQ(back->chunk_count, 4);
  EXPECT_EQ(back->chunk_size, 64);
  EXPECT_EQ(back->dataset, "calib.txt");

  auto expect_refused = [&](const std::string& path, const std::string& words) {
    auto r = ReadImatrix(path);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_NE(r.status().message().find(words), std::string::npos) << r.status().message();
  };
  // A model GGUF is not an importance matrix.
  Tensor t = Tensor::Zeros(DType::kF32, {2}).value();
  ASSERT_TRUE(WriteGguf(dir + "/model.gguf", {{"general.architecture", "llama"}}, {{"x", t}}).ok());
  expect_refused(dir + "/model.gguf", "not an importance matrix");
  // Negative means cannot come from squares.
  t.data<float>()[1] = -1.0f;
  ASSERT_TRUE(WriteGguf(dir + "/neg.gguf", {{"general.type", "imatrix"}, {"imatrix.chunk_count", 1}}, {{"w.weight", t}},
                        {"imatrix.chunk_count"}).ok());
  expect_refused(dir + "/neg.gguf", "'w.weight' holds a negative");
  // No chunk count.
  ASSERT_TRUE(WriteGguf(dir + "/nochunks.gguf", {{"general.type", "imatrix"}}, {{"w.weight", Tensor::Zeros(DType::kF32, {2}).value()}}).ok());
  expect_refused(dir + "/nochunks.gguf", "imatrix.chunk_count");
  // 2-D tensors are not per-column means.
  ASSERT_TRUE(WriteGguf(dir + "/2d.gguf", {{"general.type", "imatrix"}, {"imatrix.chunk_count", 1}},
                        {{"w.weight", Tensor::Zeros(DType::kF32, {2, 2}).value()}}, {"imatrix.chunk_count"}).ok());
  expect_refused(dir + "/2d.gguf", "must be 1-D f32");
  // A truncated file.
  {
    std::ifstream in(dir + "/a.imatrix", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(dir + "/cut.imatrix", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  EXPECT_FALSE(ReadImatrix(dir + "/cut.imatrix").ok());
  std::filesystem::remove_all(dir);
}

std::vector<int64_t> RandomIds(size_t n, uint32_t seed, int64_t vocab) {
  std::mt19937 rng(seed);
  std::vector<int64_t> ids(n);
  for (auto& id : ids) id = 3 + static_cast<int64_t>(rng() % static_cast<uint32_t>(vocab - 3));
  return ids;
}

// Every projection of llama-tiny (q/k/v, o, gate/up, down per layer, and the head) gets one
// positive mean per input column; the fused q|k|v and gate|up parts share theirs.
TEST(Imatrix, CollectsEveryProjectionOfLlamaTiny) {
  auto model = LoadedModel::Load(test::ModelDir("llama-tiny"), LoadOptions("cpu"));
  ASSERT_TRUE(model.ok()) << model.status().message();
  ChunkOptions o;
  o.ctx = 32;
  o.bos = 1;
  auto m = CollectImatrix(**model, RandomIds(100, 5, 256), o, "random");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->chunk_count, 3);  // 100 tokens = 3 whole chunks of 32
  EXPECT_EQ(m->values.size(), 2u * 7 + 1);
  for (int l = 0; l < 2; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const char* w : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj"}) {
      ASSERT_EQ(m->values.count(p + w + ".weight"), 1u) << p + w;
      EXPECT_EQ(m->values.at(p + w + ".weight").size(), 64u);
    }
    ASSERT_EQ(m->values.at(p + "mlp.down_proj.weight").size(), 128u);
    EXPECT_EQ(m->values.at(p + "self_attn.q_proj.weight"), m->values.at(p + "self_attn.v_proj.weight"));
  }
  for (const auto& [name, v] : m->values)
    for (float x : v) EXPECT_GT(x, 0.0f) << name;
  // Fewer tokens than one chunk is an error that says so.
  auto few = CollectImatrix(**model, RandomIds(10, 5, 256), o, "random");
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.status().message().find("fewer than one chunk"), std::string::npos) << few.status().message();
}

void WriteIds(const std::string& path, size_t n, uint32_t seed) {
  std::ofstream f(path);
  const auto ids = RandomIds(n, seed, 256);
  for (size_t i = 0; i < ids.size(); ++i) f << ids[i] << (i % 16 == 15 ? "\n" : " ");
}

TEST(Imatrix, CliCalibratesQuantizesAndRefusesMismatches) {
  const std::string dir = test::MakeTempDir("imatrix-cli");
  const std::string tiny = test::ModelDir("llama-tiny");
  WriteIds(dir + "/calib.ids", 256, 7);
  auto r = test::RunCli("imatrix -m " + tiny + " -f " + dir + "/calib.ids --token-ids -c 64 -o " + dir + "/tiny.imatrix");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("15 weights, 4 chunks of 64 tokens"), std::string::npos) << r.out;
  r = test::RunCli("quantize -m " + tiny + " --type q4_0 --imatrix " + dir + "/tiny.imatrix -o " + dir + "/tiny-q4_0.gguf");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = test::RunCli("quant-eval -m " + tiny + " --test " + dir + "/tiny-q4_0.gguf -f " + dir + "/calib.ids --token-ids -c 64");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("top-1 agreement"), std::string::npos) << r.out;

  // Without a tokenizer, text needs --token-ids.
  r = test::RunCli("imatrix -m " + tiny + " -f " + dir + "/calib.ids -o " + dir + "/x.imatrix");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("--token-ids"), std::string::npos) << r.out;
  // A corrupt importance matrix: one line, exit 2, no output file.
  std::ofstream(dir + "/bad.imatrix") << "not a gguf";
  r = test::RunCli("quantize -m " + tiny + " --type q4_0 --imatrix " + dir + "/bad.imatrix -o " + dir + "/bad.gguf");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/bad.gguf"));
  // An importance matrix of another model: its names are not this model's weights.
  Imatrix other;
  other.values["model.layers.9.mlp.down_proj.weight"] = std::vector<float>(128, 1.0f);
  other.chunk_count = 1;
  ASSERT_TRUE(WriteImatrix(dir + "/other.imatrix", other).ok());
  r = test::RunCli("quantize -m " + tiny + " --type q4_0 --imatrix " + dir + "/other.imatrix -o " + dir + "/other.gguf");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("'model.layers.9.mlp.down_proj.weight', which is not a weight"), std::string::npos) << r.out;
  // The right names with the wrong widths.
  auto good = ReadImatrix(dir + "/tiny.imatrix").value();
  good.values["model.layers.0.mlp.down_proj.weight"].resize(64);
  ASSERT_TRUE(WriteImatrix(dir + "/narrow.imatrix", good).ok());
  r = test::RunCli("quantize -m " + tiny + " --type q4_0 --imatrix " + dir + "/narrow.imatrix -o " + dir + "/narrow.gguf");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("has 64 columns, the weight has 128"), std::string::npos) << r.out;
  // --rtn turns the search off, which the importance weights steer.
  r = test::RunCli("quantize -m " + tiny + " --type q4_0 --rtn --imatrix " + dir + "/tiny.imatrix -o " + dir + "/rtn.gguf");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace accel
