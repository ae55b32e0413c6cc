// CLIP text paths end to end with a folder tokenizer: `accel embed --text/--image` and
// `accel classify-image`. The tokenizer is a tiny WordLevel one sized to clip-tiny's vocabulary.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace accel {
namespace {
namespace fs = std::filesystem;

constexpr const char* kTokenizerJson = R"({
  "version": "1.0", "truncation": null, "padding": null,
  "added_tokens": [
    {"id": 0, "content": "<bos>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
    {"id": 2, "content": "<eos>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
  "normalizer": {"type": "Lowercase"},
  "pre_tokenizer": {"type": "Whitespace"},
  "post_processor": {"type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "<bos>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<eos>", "type_id": 0}}],
    "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
    "special_tokens": {"<bos>": {"id": "<bos>", "ids": [0], "tokens": ["<bos>"]}, "<eos>": {"id": "<eos>", "ids": [2], "tokens": ["<eos>"]}}},
  "decoder": null,
  "model": {"type": "WordLevel", "unk_token": "<unk>",
            "vocab": {"<bos>": 0, "<unk>": 1, "<eos>": 2, "a": 3, "photo": 4, "of": 5, "cat": 6, "dog": 7, ".": 8}}
})";

std::string ClipWithTokenizer() {
  std::string dir = test::MakeTempDir("clip-text");
  fs::copy(test::ModelDir("clip-tiny"), dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  std::ofstream(dir + "/tokenizer.json") << kTokenizerJson;
  return dir;
}

TEST(ClipText, EmbedTextAndImageAreUnitVectorsOfOneSpace) {
  std::string dir = ClipWithTokenizer();
  std::string image = test::DataDir() + "/preprocess/clip-image-314x207/image.png";
  auto r = test::RunCli("embed --model " + dir + " --json --image " + image + " --text 'a photo of a cat'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["embeddings"].size(), 2u);
  auto img = j["embeddings"][0]["embedding"].get<std::vector<float>>();
  auto txt = j["embeddings"][1]["embedding"].get<std::vector<float>>();
  ASSERT_EQ(img.size(), txt.size());
  double ni = 0, nt = 0;
  for (size_t i = 0; i < img.size(); ++i) ni += img[i] * img[i], nt += txt[i] * txt[i];
  EXPECT_NEAR(ni, 1.0, 1e-4);
  EXPECT_NEAR(nt, 1.0, 1e-4);
  fs::remove_all(dir);
}

TEST(ClipText, ZeroShotProbabilitiesSumToOne) {
  std::string dir = ClipWithTokenizer();
  std::string image = test::DataDir() + "/preprocess/clip-image-314x207/image.png";
  auto r = test::RunCli("classify-image --model " + dir + " " + image + " --labels cat,dog --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  double sum = 0;
  ASSERT_EQ(j.size(), 2u) << r.out;
  for (const auto& s : j) sum += s["score"].get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-5) << r.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace accel
