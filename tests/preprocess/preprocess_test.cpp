// Image and audio preprocessing: the goldens verify through `accel verify` (PIL-exact resize,
// Whisper log-mel, Wav2Vec2 normalisation), a changed config fails, and bad inputs (corrupt,
// truncated, empty, oversized, unsupported) give errors, never crashes.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "preprocess/audio.h"
#include "preprocess/image_ops.h"
#include "preprocess/image_processor.h"
#include "test_util.h"

namespace accel {
namespace {

namespace fs = std::filesystem;
std::string PreDir(const std::string& name) { return test::DataDir() + "/preprocess/" + name; }

class PreprocessGolden : public ::testing::TestWithParam<std::string> {};
TEST_P(PreprocessGolden, VerifiesExitZero) {
  auto r = test::RunCli("verify " + PreDir(GetParam()));
  EXPECT_EQ(r.exit_code, 0) << r.out;
}
INSTANTIATE_TEST_SUITE_P(Issue5, PreprocessGolden,
                         ::testing::Values("clip-image-314x207", "vit-image-314x207", "wav2vec2-features-2s", "whisper-features-2s"));

TEST(Preprocess, WrongResampleFilterFailsVerify) {
  const std::string dir = test::MakeTempDir("clip-bilinear");
  fs::copy(PreDir("clip-image-314x207"), dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  std::string cfg = ReadFileToString(dir + "/preprocessor_config.json").value();
  const auto at = cfg.find("\"resample\": 3");
  ASSERT_NE(at, std::string::npos);
  cfg.replace(at, 13, "\"resample\": 2");
  std::ofstream(dir + "/preprocessor_config.json") << cfg;
  auto r = test::RunCli("verify " + dir);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  fs::remove_all(dir);
}

std::string Png() { return ReadFileToString(PreDir("vit-image-314x207/image.png")).value(); }

uint32_t Crc32(const unsigned char* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// The fixture PNG with its IHDR rewritten to w x h (valid CRC), pixel data unchanged.
std::string PngWithSize(uint32_t w, uint32_t h) {
  std::string png = Png();
  auto put = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) png[at + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
  };
  put(16, w);
  put(20, h);
  put(29, Crc32(reinterpret_cast<const unsigned char*>(png.data()) + 12, 17));
  return png;
}

TEST(Preprocess, OversizedImageRefusedFromHeader) {
  auto r = preprocess::DecodeImage(PngWithSize(20000, 20000), "big.png");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("exceeds the limit"), std::string::npos) << r.status().message();
  preprocess::DecodeOptions o;
  o.max_pixels = 1000;
  EXPECT_FALSE(preprocess::DecodeImage(Png(), "small-limit.png", o).ok());
}

TEST(Preprocess, CorruptTruncatedEmptyAndUnknownImages) {
  const std::string png = Png();
  EXPECT_FALSE(preprocess::DecodeImage(png.substr(0, png.size() / 2), "half.png").ok());
  EXPECT_FALSE(preprocess::DecodeImage(png.substr(0, 30), "header.png").ok());
  EXPECT_FALSE(preprocess::DecodeImage("", "empty").ok());
  EXPECT_FALSE(preprocess::DecodeImage("GIF89a....", "x.gif").ok());
  EXPECT_FALSE(preprocess::DecodeImage(std::string("\xFF\xD8\xFF\xE0garbage", 11), "bad.jpg").ok());
  std::string flipped = png;
  for (size_t i = 100; i < flipped.size(); i += 7) flipped[i] = static_cast<char>(flipped[i] ^ 0x5A);
  EXPECT_FALSE(preprocess::DecodeImage(flipped, "flipped.png").ok());
}

TEST(Preprocess, OnePixelImageThroughClipPipeline) {
  preprocess::Image one;
  one.width = one.height = 1;
  one.rgb = {10, 200, 30};
  auto cfg = preprocess::ImageProcessorConfig::Load(PreDir("clip-image-314x207/preprocessor_config.json"));
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  auto out = preprocess::RunImagePipeline(one, *cfg);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->pixel_values.shape(), (Shape{1, 3, 224, 224}));
  // A constant image stays constant through resize, crop and normalisation.
  const float r0 = out->pixel_values.data<float>()[0];
  EXPECT_NEAR(r0, (10 / 255.0f - 0.48145466f) / 0.26862954f, 1e-5);
}

TEST(Preprocess, CenterCropUsesFloorDivisionAndPads) {
  preprocess::Image img;
  img.width = 5;
  img.height = 1;
  img.rgb.assign(15, 0);
  for (int i = 0; i < 5; ++i) img.rgb[3 * i] = static_cast<uint8_t>(i);
  auto c = preprocess::CenterCrop(img, 2, 1);  // (5 - 2) // 2 = 1
  EXPECT_EQ(c.rgb[0], 1);
  auto p = preprocess::CenterCrop(img, 7, 3);  // padded with zeros around
  EXPECT_EQ(p.width, 7);
  EXPECT_EQ(p.height, 3);
  EXPECT_EQ(p.rgb[(1 * 7 + 1) * 3], 0);
  EXPECT_EQ(p.rgb[(1 * 7 + 2) * 3], 1);
}

// A PCM16 WAV with the given rate and channels.
std::string Wav(int rate, int channels, int frames) {
  std::string w;
  auto u32 = [&](uint32_t v) { for (int i = 0; i < 4; ++i) w.push_back(static_cast<char>((v >> (8 * i)) & 0xFF)); };
  auto u16 = [&](uint16_t v) { w.push_back(static_cast<char>(v & 0xFF)); w.push_back(static_cast<char>(v >> 8)); };
  const uint32_t data = static_cast<uint32_t>(frames * channels * 2);
  w += "RIFF"; u32(36 + data); w += "WAVEfmt "; u32(16); u16(1); u16(static_cast<uint16_t>(channels)); u32(rate);
  u32(rate * channels * 2); u16(static_cast<uint16_t>(channels * 2)); u16(16); w += "data"; u32(data);
  for (int i = 0; i < frames; ++i)
    for (int c = 0; c < channels; ++c) u16(static_cast<uint16_t>(static_cast<int16_t>(8000 * std::sin(0.05 * i) * (c + 1))));
  return w;
}

TEST(Preprocess, AudioRatesAndChannels) {
  auto cfg = preprocess::AudioFeatureConfig::Load(PreDir("wav2vec2-features-2s/preprocessor_config.json"));
  ASSERT_TRUE(cfg.ok());
  for (int rate : {8000, 16000, 48000}) {
    for (int ch : {1, 2}) {
      auto a = preprocess::DecodeAudio(Wav(rate, ch, rate / 2), "tone.wav");
      ASSERT_TRUE(a.ok()) << a.status().message();
      EXPECT_EQ(a->sample_rate, rate);
      EXPECT_EQ(a->channels, ch);
      std::string name;
      auto f = preprocess::ExtractAudioFeatures(*a, *cfg, &name);
      ASSERT_TRUE(f.ok()) << f.status().message();
      EXPECT_EQ(name, "input_values");
      EXPECT_NEAR(static_cast<double>(f->dim(1)), 8000.0, 2.0) << rate;  // half a second at 16 kHz
    }
  }
}

TEST(Preprocess, BadAudioIsAnError) {
  EXPECT_FALSE(preprocess::DecodeAudio("", "empty.wav").ok());
  EXPECT_FALSE(preprocess::DecodeAudio(Wav(16000, 1, 0), "zero.wav").ok());
  EXPECT_FALSE(preprocess::DecodeAudio("RIFF\x10\0\0\0WAVEjunkjunk", "junk.wav").ok());
  const std::string wav = ReadFileToString(PreDir("whisper-features-2s/audio.wav")).value();
  auto truncated = preprocess::DecodeAudio(wav.substr(0, 30), "cut.wav");
  EXPECT_FALSE(truncated.ok());
  EXPECT_FALSE(preprocess::DecodeAudio(Png(), "image.wav").ok());
}

TEST(Preprocess, WhisperFeaturesOfShortAudioHaveFullChunk) {
  auto cfg = preprocess::AudioFeatureConfig::Load(PreDir("whisper-features-2s/preprocessor_config.json"));
  ASSERT_TRUE(cfg.ok());
  auto f = preprocess::WhisperLogMel(std::vector<float>(1600, 0.1f), *cfg);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->shape(), (Shape{1, 80, 3000}));
}

}  // namespace
}  // namespace accel
