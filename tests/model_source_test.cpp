// Model resolution (folder, HF cache with refs/main, HF_HOME / HF_HUB_CACHE) and sharded weights.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "formats/model_source.h"
#include "runtime/loaded_model.h"

#include <nlohmann/json.hpp>
#include "test_util.h"

namespace accel {
namespace {
namespace fs = std::filesystem;

TEST(ModelSource, ResolvesHfCacheSnapshotFromRefsMain) {
  std::string home = test::MakeTempDir("hfhome");
  fs::path repo = fs::path(home) / "hub" / "models--acme--tiny-bert";
  fs::create_directories(repo / "snapshots" / "abc123");
  fs::create_directories(repo / "snapshots" / "zzz999");
  fs::create_directories(repo / "refs");
  std::ofstream(repo / "refs" / "main") << "abc123\n";
  setenv("HF_HOME", home.c_str(), 1);
  unsetenv("HF_HUB_CACHE");
  auto dir = ResolveModelDir("acme/tiny-bert");
  ASSERT_TRUE(dir.ok()) << dir.status().message();
  EXPECT_EQ(fs::path(*dir).filename(), "abc123");
  setenv("HF_HUB_CACHE", (fs::path(home) / "elsewhere").c_str(), 1);
  auto missing = ResolveModelDir("acme/tiny-bert");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("offline"), std::string::npos);
  unsetenv("HF_HUB_CACHE");
  unsetenv("HF_HOME");
  fs::remove_all(home);
}

TEST(ModelSource, RunsABertFromTheHfCacheById) {
  std::string home = test::MakeTempDir("hfcache");
  fs::path snap = fs::path(home) / "models--acme--bert-tiny" / "snapshots" / "r1";
  fs::create_directories(snap);
  fs::copy(test::ModelDir("bert-tiny"), snap, fs::copy_options::recursive);
  auto r = test::RunCli("verify " + snap.string());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  setenv("HF_HUB_CACHE", home.c_str(), 1);
  EXPECT_TRUE(ResolveModelDir("acme/bert-tiny").ok());
  unsetenv("HF_HUB_CACHE");
  fs::remove_all(home);
}

TEST(ModelSource, OpensShardedCheckpoints) {
  std::string dir = test::MakeTempDir("shards");
  auto src = SafetensorsFile::Open(test::ModelDir("bert-tiny") + "/model.safetensors").value();
  std::vector<std::pair<std::string, Tensor>> a, b;
  nlohmann::json index = {{"metadata", nlohmann::json::object()}, {"weight_map", nlohmann::json::object()}};
  int i = 0;
  for (const auto& [name, e] : src->entries()) {
    auto& shard = (i++ % 2) ? a : b;
    shard.emplace_back(name, src->Get(name).value());
    index["weight_map"][name] = (&shard == &a) ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  ASSERT_TRUE(WriteSafetensors(dir + "/model-00001-of-00002.safetensors", a).ok());
  ASSERT_TRUE(WriteSafetensors(dir + "/model-00002-of-00002.safetensors", b).ok());
  std::ofstream(dir + "/model.safetensors.index.json") << index.dump();
  fs::copy_file(test::ModelDir("bert-tiny") + "/config.json", dir + "/config.json");
  fs::copy_file(test::ModelDir("bert-tiny") + "/reference.json", dir + "/reference.json");
  fs::copy_file(test::ModelDir("bert-tiny") + "/reference.safetensors", dir + "/reference.safetensors");
  auto store = WeightStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ(store->Names().size(), src->entries().size());
  auto r = test::RunCli("verify " + dir);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  // A shard name that tries to leave the folder is refused.
  index["weight_map"][src->entries().begin()->first] = "../evil.safetensors";
  std::ofstream(dir + "/model.safetensors.index.json") << index.dump();
  EXPECT_FALSE(WeightStore::Open(dir).ok());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace accel

namespace accel {
namespace {
TEST(ModelSource, TaskCheckpointWithBasePrefixAndHeadsRuns) {
  std::string dir = test::MakeTempDir("prefixed");
  for (const char* f : {"config.json", "reference.json", "reference.safetensors"}) {
    std::filesystem::copy_file(test::ModelDir("bert-tiny") + "/" + f, dir + "/" + f);
  }
  auto src = SafetensorsFile::Open(test::ModelDir("bert-tiny") + "/model.safetensors").value();
  std::vector<std::pair<std::string, Tensor>> ts;
  for (const auto& [name, e] : src->entries()) ts.emplace_back("bert." + name, src->Get(name).value());
  ts.emplace_back("cls.predictions.bias", Tensor::Zeros(DType::kF32, {128}).value());
  ASSERT_TRUE(WriteSafetensors(dir + "/model.safetensors", ts).ok());
  auto r = test::RunCli("verify " + dir);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  std::filesystem::remove_all(dir);
}
}  // namespace
}  // namespace accel

namespace accel {
namespace {
// The progress a load reports is the model taking its weights: bytes only grow, each tensor
// counts once, and the total is every tensor of the checkpoint, prefixed heads set aside.
TEST(ModelSource, LoadReportsWeightBytesTakenAgainstTheCheckpointTotal) {
  const std::string dir = test::ModelDir("llama-tiny");
  uint64_t expected_total = 0;
  auto file = SafetensorsFile::Open(dir + "/model.safetensors").value();
  for (const auto& [name, e] : file->entries()) expected_total += e.size;
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  LoadOptions options;
  options.device = "cpu";
  options.on_progress = [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); };
  auto model = LoadedModel::Load(dir, options);
  ASSERT_TRUE(model.ok()) << model.status().message();
  ASSERT_GT(calls.size(), 5u);
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].second, expected_total);
    if (i > 0) {
      EXPECT_GT(calls[i].first, calls[i - 1].first) << "call " << i;
    }
  }
  EXPECT_EQ(calls.back().first, expected_total);  // llama-tiny uses every tensor it has
  // A second Get of a tensor already taken does not count again.
  auto store = WeightStore::FromTensors({{"a", Tensor::Zeros(DType::kF32, {4}).value()},
                                         {"b", Tensor::Zeros(DType::kF32, {12}).value()}}, "mem");
  std::vector<uint64_t> done;
  store.SetProgress([&](uint64_t d, uint64_t total) {
    EXPECT_EQ(total, 64u);
    done.push_back(d);
  });
  ASSERT_TRUE(store.Get("b").ok());
  ASSERT_TRUE(store.Get("b").ok());
  ASSERT_TRUE(store.Get("a").ok());
  EXPECT_EQ(done, (std::vector<uint64_t>{48, 64}));
}
}  // namespace
}  // namespace accel
