// CLIP image embedding, zero-shot scoring and speech transcription pipelines, through the
// library and the CLI.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "preprocess/image_processor.h"
#include "runtime/clip_pipeline.h"
#include "runtime/speech_pipeline.h"
#include "test_util.h"

namespace accel {
namespace {

namespace fs = std::filesystem;
const std::string kImage = test::DataDir() + "/preprocess/clip-image-314x207/image.png";
const std::string kSpeech = test::DataDir() + "/preprocess/wav2vec2-features-2s/audio.wav";

TEST(ClipPipeline, EmbedImageIsTheNormalisedVisionTowerOutput) {
  auto model = LoadedModel::Load(test::ModelDir("clip-tiny"));
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto emb = runtime::EmbedImage(**model, kImage);
  ASSERT_TRUE(emb.ok()) << emb.status().message();
  ASSERT_EQ(emb->size(), 24u);
  double norm = 0;
  for (float v : *emb) norm += v * v;
  EXPECT_NEAR(norm, 1.0, 1e-5);
  // Same as preprocessing by hand and running the model on pixel_values.
  auto cfg = preprocess::ImageProcessorConfig::Load(test::ModelDir("clip-tiny") + "/preprocessor_config.json");
  auto img = preprocess::LoadImage(kImage);
  auto pre = preprocess::RunImagePipeline(*img, *cfg);
  ASSERT_EQ(pre->pixel_values.shape(), (Shape{1, 3, 32, 32}));
  auto out = (*model)->Run({{"pixel_values", pre->pixel_values}});
  ASSERT_TRUE(out.ok());
  for (size_t i = 0; i < emb->size(); ++i) EXPECT_FLOAT_EQ((*emb)[i], (*out)["image_embeds"].data<float>()[i]);
}

TEST(ClipPipeline, EmbedImageRejectsNonClipModelsAndBadFiles) {
  auto vit = LoadedModel::Load(test::ModelDir("vit-tiny"));
  ASSERT_TRUE(vit.ok());
  EXPECT_FALSE(runtime::EmbedImage(**vit, kImage).ok());
  auto clip = LoadedModel::Load(test::ModelDir("clip-tiny"));
  EXPECT_FALSE(runtime::EmbedImage(**clip, kSpeech).ok());  // a WAV is not an image
}

TEST(ClipPipeline, ScoreLabelsIsASoftmaxOverScaledCosines) {
  auto s = runtime::ScoreLabels({1, 0}, {{1, 0}, {0, 1}}, {"a", "b"}, 10.0f);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_NEAR(s[0].probability, 1 / (1 + std::exp(-10.0)), 1e-6);
  EXPECT_NEAR(s[0].probability + s[1].probability, 1.0, 1e-6);
  EXPECT_FLOAT_EQ(s[0].logit, 10.0f);
}

TEST(SpeechPipeline, CtcGreedyMergesRepeatsAndDropsBlanks) {
  // frames: 2 2 0 2 3 3 0 -> 2 2 3
  const int64_t ids[] = {2, 2, 0, 2, 3, 3, 0};
  std::vector<float> logits(7 * 4, 0.0f);
  for (int t = 0; t < 7; ++t) logits[t * 4 + ids[t]] = 1.0f;
  EXPECT_EQ(runtime::CtcGreedy(logits.data(), 7, 4, 0), (std::vector<int64_t>{2, 2, 3}));
}

TEST(SpeechPipeline, Wav2Vec2TranscribesWithVocabJson) {
  const std::string dir = test::MakeTempDir("w2v");
  fs::copy(test::ModelDir("wav2vec2-tiny-group"), dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  std::ofstream(dir + "/vocab.json") << R"({"<pad>":0,"<s>":1,"</s>":2,"<unk>":3,"|":4,"E":5,"T":6,"A":7,"O":8,"N":9,"I":10,"H":11,"S":12,"R":13,"D":14,"L":15,"U":16,"M":17,"W":18,"C":19,"F":20,"G":21,"Y":22,"P":23,"B":24,"V":25,"K":26,"'":27,"X":28,"J":29,"Q":30,"Z":31})";
  auto model = LoadedModel::Load(dir);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto t = runtime::Transcribe(**model, kSpeech);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_FALSE(t->ids.empty());
  EXPECT_FALSE(t->text.empty());
  auto cli = test::RunCli("transcribe --model " + dir + " " + kSpeech);
  EXPECT_EQ(cli.exit_code, 0) << cli.out;
  EXPECT_EQ(cli.out, t->text + "\n");
  fs::remove_all(dir);
}

TEST(SpeechPipeline, CliErrorsAreOneLineExitTwo) {
  auto r = test::RunCli("transcribe --model " + test::ModelDir("vit-tiny") + " " + kSpeech);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  auto w = test::RunCli("transcribe --model " + test::ModelDir("wav2vec2-tiny-layer") + " " + kImage);
  EXPECT_EQ(w.exit_code, 2) << w.out;
  auto c = test::RunCli("classify-image --model " + test::ModelDir("clip-tiny") + " /nonexistent.png --labels a,b");
  EXPECT_EQ(c.exit_code, 2) << c.out;
}

}  // namespace
}  // namespace accel
