// The correctness contract of issue 2: every encoder fixture verifies, a perturbed weight is
// caught (exit 1), unusable input is rejected with one line and exit 2.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "formats/safetensors.h"
#include "test_util.h"

namespace accel {
namespace {
namespace fs = std::filesystem;
using test::ModelDir;
using test::RunCli;

class EncoderFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(EncoderFixture, VerifiesAgainstReference) {
  auto r = RunCli("verify " + ModelDir(GetParam()));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("output.last_hidden_state"), std::string::npos) << r.out;
}

TEST_P(EncoderFixture, JsonReportIsParsableAndOk) {
  auto r = RunCli("verify --json " + ModelDir(GetParam()));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\"ok\": true"), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(All, EncoderFixture,
                         ::testing::Values("bert-tiny", "bert-tiny-pad", "roberta-tiny", "xlm-roberta-tiny", "camembert-tiny",
                                           "distilbert-tiny", "electra-tiny", "albert-tiny", "albert-tiny-groups"));

// Copies a fixture so a test can damage it.
std::string CopyFixture(const std::string& name, const std::string& tag) {
  std::string dir = test::MakeTempDir(tag);
  fs::copy(ModelDir(name), dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  return dir;
}

// Rewrites one tensor of model.safetensors with `edit` applied to its f32 values.
void EditTensor(const std::string& dir, const std::string& tensor, const std::function<void(float*, size_t)>& edit) {
  std::string path = dir + "/model.safetensors";
  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, e] : (*file)->entries()) {
    Tensor t = (*file)->Get(name).value().Clone();
    if (name == tensor) edit(t.data<float>(), t.numel());
    tensors.emplace_back(name, t);
  }
  file = Result<std::shared_ptr<SafetensorsFile>>(NotFound("closed"));
  ASSERT_TRUE(WriteSafetensors(path, tensors).ok());
}

TEST(VerifyContract, PerturbedWeightFails) {
  for (const char* name : {"bert-tiny", "roberta-tiny", "distilbert-tiny"}) {
    std::string dir = CopyFixture(name, "perturb");
    const char* tensor = std::string(name) == "distilbert-tiny" ? "transformer.layer.1.ffn.lin2.weight"
                                                                : "encoder.layer.1.output.dense.weight";
    EditTensor(dir, tensor, [](float* p, size_t n) { p[n / 2] += 0.05f; });
    auto r = RunCli("verify " + dir);
    EXPECT_EQ(r.exit_code, 1) << name << ": " << r.out;
    EXPECT_NE(r.out.find("FAIL"), std::string::npos) << r.out;
    fs::remove_all(dir);
  }
}

TEST(VerifyContract, TinyPerturbationWithinToleranceStillPasses) {
  std::string dir = CopyFixture("bert-tiny", "tiny-perturb");
  EditTensor(dir, "encoder.layer.0.output.dense.weight", [](float* p, size_t) { p[0] += 1e-9f; });
  EXPECT_EQ(RunCli("verify " + dir).exit_code, 0);
  fs::remove_all(dir);
}

struct BadInputCase {
  const char* name;
  std::function<void(const std::string& dir)> damage;
  const char* needle;
};

TEST(VerifyContract, BadInputGivesOneLineErrorAndExit2) {
  auto write = [](const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary | std::ios::trunc) << text; };
  auto truncate_file = [](const std::string& path, size_t keep) { fs::resize_file(path, keep); };
  std::vector<BadInputCase> cases = {
      {"truncated weights", [&](const std::string& d) { truncate_file(d + "/model.safetensors", 1000); }, "model.safetensors"},
      {"header length past end", [&](const std::string& d) { truncate_file(d + "/model.safetensors", 6); }, "shorter than"},
      {"header not json", [&](const std::string& d) { write(d + "/model.safetensors", std::string("\x08\0\0\0\0\0\0\0garbage!", 16)); }, "not valid JSON"},
      {"missing config", [&](const std::string& d) { fs::remove(d + "/config.json"); }, "config.json"},
      {"malformed config", [&](const std::string& d) { write(d + "/config.json", "{\"model_type\": \"bert\","); }, "config.json: not valid JSON"},
      {"unsupported model_type", [&](const std::string& d) { write(d + "/config.json", "{\"model_type\": \"nonesuch\"}"); }, "unsupported model_type 'nonesuch'"},
      {"config hidden size disagrees with weights",
       [&](const std::string& d) {
         std::ifstream in(d + "/config.json");
         std::string s((std::istreambuf_iterator<char>(in)), {});
         s.replace(s.find("\"hidden_size\": 32"), 17, "\"hidden_size\": 64");
         write(d + "/config.json", s);
       },
       "has shape"},
      {"absurd layer count",
       [&](const std::string& d) {
         std::ifstream in(d + "/config.json");
         std::string s((std::istreambuf_iterator<char>(in)), {});
         s.replace(s.find("\"num_hidden_layers\": 2"), 22, "\"num_hidden_layers\": 1000000000000");
         write(d + "/config.json", s);
       },
       "inconsistent sizes"},
      {"missing reference", [&](const std::string& d) { fs::remove(d + "/reference.json"); }, "reference.json"},
      {"wrong input shape",
       [&](const std::string& d) {
         auto ref = SafetensorsFile::Open(d + "/reference.safetensors").value();
         std::vector<std::pair<std::string, Tensor>> ts;
         for (const auto& [n, e] : ref->entries()) {
           Tensor t = ref->Get(n).value().Clone();
           if (n == "input.attention_mask") t = t.Reshape({t.dim(0) * t.dim(1)}).value();
           ts.emplace_back(n, t);
         }
         ref.reset();
         ASSERT_TRUE(WriteSafetensors(d + "/reference.safetensors", ts).ok());
       },
       "attention_mask shape"},
  };
  for (const auto& c : cases) {
    std::string dir = CopyFixture("bert-tiny", "bad");
    c.damage(dir);
    auto r = RunCli("verify " + dir);
    EXPECT_EQ(r.exit_code, 2) << c.name << ": " << r.out;
    EXPECT_NE(r.out.find(c.needle), std::string::npos) << c.name << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << c.name << ": " << r.out;
    fs::remove_all(dir);
  }
}

// Rewrites a fixture copy's config.json through `edit`.
void EditConfig(const std::string& dir, const std::function<void(nlohmann::json&)>& edit) {
  std::ifstream in(dir + "/config.json");
  nlohmann::json j = nlohmann::json::parse(in);
  in.close();
  edit(j);
  std::ofstream(dir + "/config.json", std::ios::binary | std::ios::trunc) << j.dump(2);
}

// Issue 19: a config.json without the keys that equal HF's class defaults loads with those
// defaults (bert-tiny's eps, activation, token types and position scheme are BertConfig's).
TEST(VerifyContract, ConfigWithoutDefaultValuedKeysVerifies) {
  std::string dir = CopyFixture("bert-tiny", "sparse");
  EditConfig(dir, [](nlohmann::json& j) {
    for (const char* k : {"hidden_act", "layer_norm_eps", "type_vocab_size", "position_embedding_type", "pad_token_id",
                          "initializer_range", "use_cache"})
      j.erase(k);
  });
  auto r = RunCli("verify " + dir);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  fs::remove_all(dir);
}

// Keys that contradict each other: the error names both, and says which one is HF's default.
TEST(VerifyContract, ContradictoryKeysAreNamedTogether) {
  struct Case {
    const char* fixture;
    std::function<void(nlohmann::json&)> edit;
    std::vector<const char*> needles;
  } cases[] = {
      {"bert-tiny", [](nlohmann::json& j) { j.erase("num_attention_heads"); },
       {"'hidden_size' = 32", "is not divisible by", "'num_attention_heads' = 12 (the bert default)"}},
      {"distilbert-tiny", [](nlohmann::json& j) { j["n_heads"] = 5; }, {"'dim' =", "'n_heads' = 5"}},
      {"albert-tiny-groups", [](nlohmann::json& j) { j["num_hidden_groups"] = 9; },
       {"'num_hidden_groups' = 9", "is more than", "'num_hidden_layers' = 5"}},
      {"llama-tiny-gqa", [](nlohmann::json& j) { j["num_key_value_heads"] = 3; },
       {"'num_attention_heads' = 4", "is not a multiple of", "'num_key_value_heads' = 3"}},
      {"vit-tiny", [](nlohmann::json& j) { j["num_attention_heads"] = 7; },
       {"'hidden_size' =", "'num_attention_heads' = 7"}},
  };
  for (const auto& c : cases) {
    std::string dir = CopyFixture(c.fixture, "contradiction");
    EditConfig(dir, c.edit);
    auto r = RunCli("verify " + dir);
    EXPECT_EQ(r.exit_code, 2) << c.fixture << ": " << r.out;
    for (const char* n : c.needles) EXPECT_NE(r.out.find(n), std::string::npos) << c.fixture << ": " << n << "\n" << r.out;
    fs::remove_all(dir);
  }
}

// ALBERT groups: a change to the second layer of the second group is seen (every group's every
// inner layer runs).
TEST(VerifyContract, AlbertSecondGroupsSecondLayerRuns) {
  std::string dir = CopyFixture("albert-tiny-groups", "albert-groups");
  EditTensor(dir, "encoder.albert_layer_groups.1.albert_layers.1.ffn_output.weight",
             [](float* p, size_t n) { p[n / 3] += 0.05f; });
  auto r = RunCli("verify " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  fs::remove_all(dir);
}

TEST(VerifyContract, ExtraTensorIsRejected) {
  std::string dir = CopyFixture("bert-tiny", "extra");
  auto file = SafetensorsFile::Open(dir + "/model.safetensors").value();
  std::vector<std::pair<std::string, Tensor>> ts;
  for (const auto& [n, e] : file->entries()) ts.emplace_back(n, file->Get(n).value().Clone());
  ts.emplace_back("encoder.layer.7.mystery.weight", Tensor::Zeros(DType::kF32, {4}).value());
  file.reset();
  ASSERT_TRUE(WriteSafetensors(dir + "/model.safetensors", ts).ok());
  auto r = RunCli("verify " + dir);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("encoder.layer.7.mystery.weight"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(VerifyContract, MissingTensorIsNamed) {
  std::string dir = CopyFixture("bert-tiny", "missing");
  auto file = SafetensorsFile::Open(dir + "/model.safetensors").value();
  std::vector<std::pair<std::string, Tensor>> ts;
  for (const auto& [n, e] : file->entries()) {
    if (n != "encoder.layer.1.intermediate.dense.weight") ts.emplace_back(n, file->Get(n).value().Clone());
  }
  file.reset();
  ASSERT_TRUE(WriteSafetensors(dir + "/model.safetensors", ts).ok());
  auto r = RunCli("verify " + dir);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("missing tensor 'encoder.layer.1.intermediate.dense.weight'"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace accel
