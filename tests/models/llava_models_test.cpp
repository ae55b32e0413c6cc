// LLaVA 1.5 (current and legacy checkpoint layouts) and LLaVA-NeXT against their reference
// fixtures through the CLI (logits and greedy generate.output_ids, on the CPU and the emulated
// device), a perturbed projector / image_newline failing verification, the anyres layout
// arithmetic against HF's rules, the config defaults of the legacy layout, and bad inputs as
// errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>
#include <vector>

#include "formats/safetensors.h"
#include "models/llava/anyres.h"
#include "runtime/image_text_pipeline.h"
#include "runtime/loaded_model.h"
#include "test_util.h"

namespace accel {
namespace {

namespace fs = std::filesystem;

class LlavaFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(LlavaFixture, VerifiesLogitsAndGreedyIds) {
  auto r = test::RunCli("verify " + test::ModelDir(GetParam()));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("generate.output_ids"), std::string::npos) << r.out;
}

TEST_P(LlavaFixture, VerifiesOnTheEmulatedDevice) {
  auto r = test::RunCli("verify --device emulated " + test::ModelDir(GetParam()));
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Llava, LlavaFixture, ::testing::Values("llava-tiny", "llava-tiny-legacy", "llava-next-tiny"));

// Copies a fixture and adds a pattern (not a uniform shift) to every float of `tensor`.
std::string PerturbedCopy(const std::string& fixture, const std::string& tensor) {
  const std::string dir = test::MakeTempDir("llava-perturb");
  fs::copy(test::ModelDir(fixture), dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  std::vector<std::pair<std::string, Tensor>> tensors;
  {
    auto file = SafetensorsFile::Open(dir + "/model.safetensors");
    EXPECT_TRUE(file.ok());
    for (const auto& [name, entry] : (*file)->entries()) {
      Tensor t = (*file)->Get(name)->Clone();
      if (name == tensor) {
        for (size_t i = 0; i < t.numel(); ++i) t.data<float>()[i] += (i % 3 == 0) ? 0.5f : -0.25f * static_cast<float>(i % 5);
      }
      tensors.emplace_back(name, std::move(t));
    }
  }
  fs::remove(dir + "/model.safetensors");
  EXPECT_TRUE(WriteSafetensors(dir + "/model.safetensors", tensors).ok());
  return dir;
}

struct Perturbation {
  const char* fixture;
  const char* tensor;
};

class LlavaPerturbed : public ::testing::TestWithParam<Perturbation> {};

TEST_P(LlavaPerturbed, FailsVerification) {
  const std::string dir = PerturbedCopy(GetParam().fixture, GetParam().tensor);
  auto r = test::RunCli("verify " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    Llava, LlavaPerturbed,
    ::testing::Values(Perturbation{"llava-tiny", "model.multi_modal_projector.linear_1.weight"},
                      Perturbation{"llava-tiny-legacy", "vision_tower.vision_model.encoder.layers.0.mlp.fc2.bias"},
                      Perturbation{"llava-next-tiny", "model.image_newline"}));

TEST(LlavaAnyres, SelectBestResolutionFollowsHf) {
  const std::vector<llava::Resolution> pins = {{32, 64}, {64, 32}, {64, 64}, {32, 96}, {96, 32}};
  auto best = llava::SelectBestResolution({60, 50}, pins);  // the llava-next-tiny image (height, width)
  ASSERT_TRUE(best.ok());
  EXPECT_EQ(best->height, 64);
  EXPECT_EQ(best->width, 64);
  // A wide image keeps the most pixels at the widest pinpoint.
  best = llava::SelectBestResolution({20, 90}, pins);
  ASSERT_TRUE(best.ok());
  EXPECT_EQ(best->height, 32);
  EXPECT_EQ(best->width, 96);
  // LLaVA-NeXT's default pinpoints: a 480x640 (h, w) photo fits 672x672 best... and equal
  // effective areas prefer the least waste.
  const std::vector<llava::Resolution> hub = {{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}};
  best = llava::SelectBestResolution({480, 640}, hub);
  ASSERT_TRUE(best.ok());
  EXPECT_EQ(best->height, 672);
  EXPECT_EQ(best->width, 672);
  EXPECT_FALSE(llava::SelectBestResolution({0, 5}, pins).ok());
  EXPECT_FALSE(llava::SelectBestResolution({5, 5}, {}).ok());
}

TEST(LlavaAnyres, PackedRowsMatchTheProcessorsTokenCount) {
  const std::vector<llava::Resolution> pins = {{32, 64}, {64, 32}, {64, 64}, {32, 96}, {96, 32}};
  auto grid = llava::GridFor({60, 50}, pins, 32);
  ASSERT_TRUE(grid.ok());
  EXPECT_EQ(grid->grid_h, 2);
  EXPECT_EQ(grid->grid_w, 2);
  EXPECT_EQ(grid->tiles(), 5);
  // 4x4 patches per tile behind a class token (17 rows a tile); image_newline is row 1000.
  const std::vector<int64_t> rows = llava::PackedRows({60, 50}, *grid, 4, 17, 1, 1000);
  ASSERT_EQ(rows.size(), 72u);  // 16 base + 8 rows x (6 unpadded columns + newline)
  for (int64_t i = 0; i < 16; ++i) EXPECT_EQ(rows[i], 1 + i);
  // Grid row 0, column 1 (unpadding drops column 0): tile 1, patch (0, 1) -> 1 + 17 + 1.
  EXPECT_EQ(rows[16], 19);
  // Column 4 of grid row 0 is tile 2's patch (0, 0).
  EXPECT_EQ(rows[19], 1 + 2 * 17);
  EXPECT_EQ(rows[22], 1000);  // after 6 columns
  // Grid row 5 is tile 3/4's patch row 1; its first kept column 1 -> tile 3, patch (1, 1).
  EXPECT_EQ(rows[16 + 5 * 7], 1 + 3 * 17 + 1 * 4 + 1);
  EXPECT_EQ(rows.back(), 1000);
  // A wide image unpads rows instead: 20x90 -> 1x3 tiles, 4 x 12 grid; 12 * 20/90 = 2.67 -> 2 rows kept.
  grid = llava::GridFor({20, 90}, pins, 32);
  ASSERT_TRUE(grid.ok());
  const std::vector<int64_t> wide = llava::PackedRows({20, 90}, *grid, 4, 17, 1, 1000);
  EXPECT_EQ(wide.size(), 16u + 2 * 13);
  EXPECT_EQ(wide[16], 1 + 17 + 1 * 4);  // first kept grid row is 1
  // One tile only: the base tile then one image_newline.
  const std::vector<int64_t> single = llava::PackedRows({32, 32}, llava::AnyresGrid{}, 4, 17, 1, 1000);
  EXPECT_EQ(single.size(), 17u);
  EXPECT_EQ(single.back(), 1000);
}

TEST(LlavaConfig, LegacyConfigGetsHfDefaults) {
  auto c = HfConfig::Load(test::ModelDir("llava-tiny-legacy") + "/config.json");
  ASSERT_TRUE(c.ok());
  const HfConfig& full = *c;  // filled from formats/config_defaults.json when read
  EXPECT_EQ(full.IntOr("vision_feature_layer", 0), -2);
  EXPECT_EQ(full.StringOr("projector_hidden_act", ""), "gelu");
  EXPECT_EQ(full.StringOr("vision_feature_select_strategy", ""), "default");
  EXPECT_EQ(full.IntOr("image_token_index", 0), 238);  // present keys are kept
  const HfConfig text = full.Sub("text_config"), vision = full.Sub("vision_config");
  // num_key_value_heads and head_dim are derived by the llama template (verified on this fixture).
  EXPECT_EQ(text.StringOr("hidden_act", ""), "silu");
  EXPECT_DOUBLE_EQ(text.FloatOr("rms_norm_eps", 0), 1e-6);
  EXPECT_EQ(vision.StringOr("hidden_act", ""), "quick_gelu");
  EXPECT_EQ(vision.IntOr("num_channels", 0), 3);
  // No text_config / vision_config at all: LLaMA-7B and CLIP ViT-L/14-336, as LlavaConfig builds them.
  const HfConfig bare = HfConfig::Parse(R"({"model_type": "llava"})", "bare").value();
  EXPECT_EQ(bare.IntOr("image_token_index", 0), 32000);
  EXPECT_EQ(bare.Sub("text_config").IntOr("hidden_size", 0), 4096);
  EXPECT_EQ(bare.Sub("vision_config").IntOr("image_size", 0), 336);
  EXPECT_EQ(bare.Sub("vision_config").IntOr("patch_size", 0), 14);
  const HfConfig next = HfConfig::Parse(R"({"model_type": "llava_next"})", "next").value();
  EXPECT_EQ(next.doc()["image_grid_pinpoints"].size(), 5u);
}

// The fixture's input.* tensors.
TensorMap FixtureInputs(const std::string& fixture, const std::string& prefix) {
  TensorMap inputs;
  auto ref = SafetensorsFile::Open(test::ModelDir(fixture) + "/reference.safetensors");
  EXPECT_TRUE(ref.ok());
  for (const auto& [name, entry] : (*ref)->entries()) {
    if (name.rfind(prefix, 0) == 0 && name != "generate.output_ids") inputs[name.substr(prefix.size())] = (*ref)->Get(name)->Clone();
  }
  return inputs;
}

TEST(LlavaInputs, ImageTokenCountMismatchIsAnError) {
  auto model = LoadedModel::Load(test::ModelDir("llava-tiny"));
  ASSERT_TRUE(model.ok()) << model.status().message();
  TensorMap inputs = FixtureInputs("llava-tiny", "input.");
  inputs["input_ids"].data<int64_t>()[3] = 5;  // one of the 16 image tokens of row 0
  auto out = (*model)->Run(inputs);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("31 tokens"), std::string::npos) << out.status().message();
  // Image tokens without pixel_values.
  inputs = FixtureInputs("llava-tiny", "input.");
  inputs.erase("pixel_values");
  out = (*model)->Run(inputs);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("no pixel_values"), std::string::npos) << out.status().message();
}

TEST(LlavaInputs, TextOnlyPromptRuns) {
  auto model = LoadedModel::Load(test::ModelDir("llava-tiny"));
  ASSERT_TRUE(model.ok()) << model.status().message();
  Tensor ids = Tensor::Zeros(DType::kI64, {1, 4}).value();
  for (int64_t i = 0; i < 4; ++i) ids.data<int64_t>()[i] = 1 + 10 * i;
  auto out = (*model)->Run({{"input_ids", ids}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->at("logits").shape(), (Shape{1, 4, 256}));
  // Text-only generation (accel generate, serve) runs on the language model.
  ASSERT_NE((*model)->causal_lm(), nullptr);
  EXPECT_EQ((*model)->causal_lm()->vocab_size(), 256);
}

TEST(LlavaInputs, NextNeedsImageSizes) {
  auto model = LoadedModel::Load(test::ModelDir("llava-next-tiny"));
  ASSERT_TRUE(model.ok()) << model.status().message();
  TensorMap inputs = FixtureInputs("llava-next-tiny", "input.");
  inputs.erase("image_sizes");
  auto out = (*model)->Run(inputs);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("image_sizes"), std::string::npos) << out.status().message();
  // A size whose grid needs more tiles than pixel_values holds.
  inputs = FixtureInputs("llava-next-tiny", "input.");
  inputs["image_sizes"].data<int64_t>()[0] = 30;
  inputs["image_sizes"].data<int64_t>()[1] = 90;  // 32x96: 3 tiles + base = 4 <= 5 tiles, but 36 features != 72 tokens
  out = (*model)->Run(inputs);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("do not match"), std::string::npos) << out.status().message();
}

TEST(LlavaImagePrompt, ExpandImageTokens) {
  auto ids = runtime::ExpandImageTokens({1, 5, 9, 6}, 9, 3, 1);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int64_t>{1, 5, 9, 9, 9, 6}));
  ids = runtime::ExpandImageTokens({1, 5, 6}, 9, 2, 1);  // no placeholder: after BOS
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int64_t>{1, 9, 9, 5, 6}));
  ids = runtime::ExpandImageTokens({5, 6}, 9, 2, 1);  // no BOS: at the start
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int64_t>{9, 9, 5, 6}));
  EXPECT_FALSE(runtime::ExpandImageTokens({1, 9, 5, 9}, 9, 2, 1).ok());
}

const std::string kImage = test::DataDir() + "/preprocess/clip-image-314x207/image.png";

// A copy of llava-next-tiny with a LlavaNextImageProcessor config (the fixture ships none).
std::string NextWithProcessor() {
  const std::string dir = test::MakeTempDir("llava-next-cli");
  fs::copy(test::ModelDir("llava-next-tiny"), dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  std::ifstream in(test::ModelDir("llava-tiny") + "/preprocessor_config.json");
  nlohmann::json j = nlohmann::json::parse(in);
  j["image_processor_type"] = "LlavaNextImageProcessor";
  j["image_grid_pinpoints"] = nlohmann::json::parse("[[32, 64], [64, 32], [64, 64], [32, 96], [96, 32]]");
  j["do_pad"] = true;
  std::ofstream(dir + "/preprocessor_config.json") << j.dump();
  return dir;
}

// `accel generate --image` (the generation loop over ImagePromptLm) gives the ids of the
// model's own greedy path (what verify checks) for the same preprocessed image and prompt.
void ExpectCliMatchesGreedy(const std::string& dir, size_t image_tokens) {
  auto r = test::RunCli("generate -m " + dir + " --image " + kImage + " --prompt-ids 1,86,233,254,100 -n 6 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto out = nlohmann::json::parse(r.out.substr(r.out.find('{')));
  const std::vector<int64_t> prompt = out["outputs"][0]["prompt_ids"].get<std::vector<int64_t>>();
  const std::vector<int64_t> got = out["outputs"][0]["ids"].get<std::vector<int64_t>>();
  EXPECT_EQ(prompt.size(), 4 + image_tokens);
  EXPECT_EQ(got.size(), 6u);

  auto model = LoadedModel::Load(dir);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto image = runtime::PrepareImage(**model, kImage);
  ASSERT_TRUE(image.ok()) << image.status().message();
  GenerateRequest req;
  req.inputs = image->tensors;
  Tensor ids = Tensor::Zeros(DType::kI64, {1, static_cast<int64_t>(prompt.size())}).value();
  std::copy(prompt.begin(), prompt.end(), ids.data<int64_t>());
  req.inputs["input_ids"] = ids;
  req.max_new_tokens = 6;
  auto greedy = (*model)->Generate(req);
  ASSERT_TRUE(greedy.ok()) << greedy.status().message();
  std::vector<int64_t> expected(greedy->data<int64_t>() + prompt.size(), greedy->data<int64_t>() + greedy->numel());
  EXPECT_EQ(got, expected);
}

TEST(LlavaImagePrompt, GenerateCliMatchesGreedy) { ExpectCliMatchesGreedy(test::ModelDir("llava-tiny"), 16); }

TEST(LlavaImagePrompt, NextGenerateCliMatchesGreedy) {
  const std::string dir = NextWithProcessor();
  // 207x314 (h, w) -> the 64x64 pinpoint, 2x2 tiles; 8x8 grid unpadded to 6 rows: 16 + 6 * 9.
  ExpectCliMatchesGreedy(dir, 70);
  fs::remove_all(dir);
}

TEST(LlavaImagePrompt, NextImageTilesFollowTheProcessor) {
  const std::string dir = NextWithProcessor();
  auto model = LoadedModel::Load(dir);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto image = runtime::PrepareImage(**model, kImage);
  ASSERT_TRUE(image.ok()) << image.status().message();
  const Tensor& px = image->tensors.at("pixel_values");
  EXPECT_EQ(px.shape(), (Shape{1, 5, 3, 32, 32}));
  const Tensor& sizes = image->tensors.at("image_sizes");
  EXPECT_EQ(sizes.data<int64_t>()[0], 207);
  EXPECT_EQ(sizes.data<int64_t>()[1], 314);
  // Resized to 64x43 inside 64x64, pasted 10 rows down: tile 1's first rows are the zero padding.
  const float pad = (0.0f - 0.48145466f) / 0.26862954f;
  const int64_t tile = 3 * 32 * 32;
  EXPECT_FLOAT_EQ(px.data<float>()[1 * tile + 9 * 32 + 5], pad);
  EXPECT_NE(px.data<float>()[1 * tile + 10 * 32 + 5], pad);
  // Bottom tiles: rows 53.. of the 64 (tile rows 21..) are padding again.
  EXPECT_FLOAT_EQ(px.data<float>()[3 * tile + 21 * 32 + 5], pad);
  EXPECT_NE(px.data<float>()[3 * tile + 20 * 32 + 5], pad);
  fs::remove_all(dir);
}

TEST(LlavaImagePrompt, ImageNeedsAVisionLanguageModel) {
  auto r = test::RunCli("generate -m " + test::ModelDir("llama-tiny") + " --image " + kImage + " --prompt-ids 1,2");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("--image"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace accel
