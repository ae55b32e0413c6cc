// ViT/DeiT, CLIP, T5/mT5, Whisper, Wav2Vec2 and DETR against their reference fixtures through the
// CLI, as users run them: every fixture verifies (exit 0, including generate.output_ids), and a
// fixture whose weights were perturbed fails (exit 1).
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace accel {
namespace {

namespace fs = std::filesystem;

class FixtureVerifies : public ::testing::TestWithParam<std::string> {};

TEST_P(FixtureVerifies, ExitZero) {
  auto r = test::RunCli("verify " + test::ModelDir(GetParam()));
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Issue5, FixtureVerifies,
                         ::testing::Values("vit-tiny", "vit-tiny-classifier", "deit-tiny", "clip-tiny", "clip-tiny-eos",
                                           "t5-tiny", "t5-tiny-gated", "mt5-tiny", "whisper-tiny", "wav2vec2-tiny-group",
                                           "wav2vec2-tiny-layer"));

// DETR: ResNet backbone (frozen batch norms folded at load, max pool), padded batch with a
// pixel_mask; on the emulated device the convolutions and the pool run through the host fallback.
INSTANTIATE_TEST_SUITE_P(Detr, FixtureVerifies, ::testing::Values("detr-tiny"));

TEST(Detr, VerifiesOnTheEmulatedDevice) {
  auto r = test::RunCli("verify --device emulated " + test::ModelDir("detr-tiny"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("MaxPool2d"), std::string::npos) << r.out;
}

// Rewrites the bytes of one tensor of a safetensors file in place (same dtype and size).
template <typename T, typename F>
void EditTensor(const std::string& path, const std::string& tensor, F&& edit) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  uint64_t header_len = 0;
  f.read(reinterpret_cast<char*>(&header_len), 8);
  std::string header(header_len, '\0');
  f.read(header.data(), static_cast<std::streamsize>(header_len));
  auto j = nlohmann::json::parse(header);
  const auto offsets = j.at(tensor).at("data_offsets");
  const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
  std::vector<T> values((end - begin) / sizeof(T));
  f.seekg(static_cast<std::streamoff>(8 + header_len + begin));
  f.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(end - begin));
  for (size_t i = 0; i < values.size(); ++i) edit(i, values[i]);
  f.seekp(static_cast<std::streamoff>(8 + header_len + begin));
  f.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(end - begin));
}

std::string FixtureCopy(const std::string& fixture, const std::string& tag) {
  const std::string dir = test::MakeTempDir(tag);
  fs::copy(test::ModelDir(fixture), dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  return dir;
}

// Copies a fixture and changes every float of one tensor in model.safetensors by a pattern
// that is not a uniform shift (LayerNorm and softmax would cancel one).
std::string PerturbedCopy(const std::string& fixture, const std::string& tensor) {
  const std::string dir = FixtureCopy(fixture, "perturb");
  EditTensor<float>(dir + "/model.safetensors", tensor,
                    [](size_t i, float& v) { v += (i % 3 == 0) ? 0.5f : -0.25f * static_cast<float>(i % 5); });
  return dir;
}

struct Perturbation {
  std::string fixture, tensor;
};

class PerturbedFixtureFails : public ::testing::TestWithParam<Perturbation> {};

TEST_P(PerturbedFixtureFails, ExitOne) {
  const std::string dir = PerturbedCopy(GetParam().fixture, GetParam().tensor);
  auto r = test::RunCli("verify " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    Issue5, PerturbedFixtureFails,
    ::testing::Values(Perturbation{"vit-tiny", "encoder.layer.1.output.dense.bias"},
                      Perturbation{"deit-tiny", "embeddings.distillation_token"},
                      Perturbation{"clip-tiny-eos", "text_model.encoder.layers.0.mlp.fc2.bias"},
                      Perturbation{"t5-tiny", "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"},
                      Perturbation{"whisper-tiny", "model.decoder.layers.1.encoder_attn.v_proj.bias"},
                      Perturbation{"wav2vec2-tiny-group", "wav2vec2.encoder.pos_conv_embed.conv.bias"}));

INSTANTIATE_TEST_SUITE_P(
    Detr, PerturbedFixtureFails,
    ::testing::Values(
        Perturbation{"detr-tiny", "model.backbone.conv_encoder.model.encoder.stages.1.layers.0.shortcut.normalization.weight"},
        Perturbation{"detr-tiny", "model.backbone.conv_encoder.model.embedder.embedder.normalization.running_mean"},
        Perturbation{"detr-tiny", "model.query_position_embeddings.weight"},
        Perturbation{"detr-tiny", "bbox_predictor.layers.2.bias"}));

TEST(Detr, PixelMaskMatters) {
  // The same pixels with a mask that calls every pixel real: the padded image's positions and
  // attention change, so the reference outputs no longer match (exit 1).
  const std::string dir = FixtureCopy("detr-tiny", "detr-mask");
  EditTensor<int64_t>(dir + "/reference.safetensors", "input.pixel_mask", [](size_t, int64_t& v) { v = 1; });
  auto r = test::RunCli("verify " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  fs::remove_all(dir);
}

TEST(VisionModels, WrongImageSizeIsBadInput) {
  // A 2x3x16x16 pixel batch for a 32x32 ViT: a clear error, exit 2, not a crash.
  const std::string dir = test::MakeTempDir("vit-size");
  fs::copy(test::ModelDir("vit-tiny"), dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  // Rewrite reference.safetensors' pixel_values header shape to 16x16 (with matching bytes).
  const std::string path = dir + "/reference.safetensors";
  std::ifstream in(path, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  std::string header(n, '\0');
  in.read(header.data(), static_cast<std::streamsize>(n));
  auto j = nlohmann::json::parse(header);
  const auto off = j["input.pixel_values"]["data_offsets"];
  const uint64_t b0 = off[0].get<uint64_t>();
  std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  nlohmann::json out = nlohmann::json::object();
  out["input.pixel_values"] = {{"dtype", "F32"}, {"shape", {2, 3, 16, 16}}, {"data_offsets", {0, 2 * 3 * 16 * 16 * 4}}};
  std::string h = out.dump();
  std::ofstream o(path, std::ios::binary | std::ios::trunc);
  uint64_t hl = h.size();
  o.write(reinterpret_cast<const char*>(&hl), 8);
  o.write(h.data(), static_cast<std::streamsize>(hl));
  o.write(data.data() + b0, 2 * 3 * 16 * 16 * 4);
  o.close();
  auto r = test::RunCli("verify " + dir);
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("32x32"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace accel
