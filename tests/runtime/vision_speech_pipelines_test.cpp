// CLIP image embedding, zero-shot scoring and speech transcription pipelines, through the
// library and the CLI.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "preprocess/audio.h"
#include "preprocess/image_processor.h"
#include "runtime/clip_pipeline.h"
#include "runtime/generation/whisper_timestamps.h"
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

// --- Whisper through `accel transcribe`, on a copy of the whisper-tiny fixture ---
// Its features must be 64 frames (2 * max_source_positions): 1 s chunks at hop 250. The
// multilingual variant lays out its 96 ids as Whisper does: text 0..69, <|endoftext|> 70,
// <|startoftranscript|> 71, <|en|> <|de|> <|fr|> 72..74, translate 75, transcribe 76,
// startoflm 77, startofprev 78, nocaptions 79, <|notimestamps|> 80, <|0.00|>..<|0.28|> 81..95.
constexpr int64_t kWEos = 70, kWStart = 71, kWNoTs = 80, kWTs = 81, kWMaxInitial = 4;
const std::string kWhisperWav = test::DataDir() + "/preprocess/whisper-features-2s/audio.wav";
const std::vector<int64_t> kWSuppress = {1, 2, 75, 76, 77, 78, 79}, kWBeginSuppress = {3, kWEos};

std::string WhisperCopy(bool multilingual) {
  const std::string dir = test::MakeTempDir(multilingual ? "whisper-ml" : "whisper");
  fs::copy(test::ModelDir("whisper-tiny"), dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  nlohmann::json pre = nlohmann::json::parse(std::ifstream(dir + "/preprocessor_config.json"));
  pre["chunk_length"] = 1;
  pre["hop_length"] = 250;
  std::ofstream(dir + "/preprocessor_config.json") << pre.dump();
  if (!multilingual) return dir;
  nlohmann::json gen = {{"decoder_start_token_id", kWStart}, {"eos_token_id", kWEos}, {"bos_token_id", kWEos},
                        {"pad_token_id", kWEos}, {"suppress_tokens", kWSuppress}, {"begin_suppress_tokens", kWBeginSuppress},
                        {"forced_decoder_ids", {{1, nullptr}, {2, 76}}}, {"is_multilingual", true},
                        {"lang_to_id", {{"<|en|>", 72}, {"<|de|>", 73}, {"<|fr|>", 74}}},
                        {"task_to_id", {{"translate", 75}, {"transcribe", 76}}}, {"no_timestamps_token_id", kWNoTs},
                        {"max_initial_timestamp_index", kWMaxInitial}, {"max_length", 24}};
  std::ofstream(dir + "/generation_config.json") << gen.dump();
  // A WordLevel tokenizer over the same ids: words w0..w69, special tokens, timestamp tokens
  // as non-special added tokens (as in Whisper's tokenizer.json).
  nlohmann::json vocab = nlohmann::json::object(), added = nlohmann::json::array();
  const std::vector<std::string> specials = {"<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|de|>", "<|fr|>",
                                             "<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>",
                                             "<|nocaptions|>", "<|notimestamps|>"};
  for (int i = 0; i < 96; ++i) {
    std::string token;
    if (i < kWEos) {
      token = "w" + std::to_string(i);
    } else if (i < kWTs) {
      token = specials[i - kWEos];
    } else {
      char buf[16];
      std::snprintf(buf, sizeof buf, "<|%.2f|>", (i - kWTs) * 0.02);
      token = buf;
    }
    vocab[token] = i;
    if (i >= kWEos) {
      added.push_back({{"id", i}, {"content", token}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                       {"normalized", false}, {"special", i < kWTs}});
    }
  }
  nlohmann::json tok = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added},
                        {"normalizer", nullptr}, {"pre_tokenizer", {{"type", "Whitespace"}}}, {"post_processor", nullptr},
                        {"decoder", nullptr}, {"model", {{"type", "WordLevel"}, {"unk_token", "w0"}, {"vocab", vocab}}}};
  std::ofstream(dir + "/tokenizer.json") << tok.dump();
  return dir;
}

TEST(WhisperTranscribe, PlainConfigIsPlainGreedyAndRefusesWhatItCannotExpress) {
  const std::string dir = WhisperCopy(false);
  auto r = test::RunCli("transcribe --model " + dir + " " + kWhisperWav + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_FALSE(j.contains("language"));
  EXPECT_FALSE(j.contains("segments"));
  // The same ids as generate() with the start token and no processor.
  auto model = LoadedModel::Load(dir);
  ASSERT_TRUE(model.ok());
  auto cfg = preprocess::AudioFeatureConfig::Load(dir + "/preprocessor_config.json");
  auto audio = preprocess::LoadAudio(kWhisperWav);
  std::string name;
  auto features = preprocess::ExtractAudioFeatures(*audio, *cfg, &name);
  ASSERT_TRUE(features.ok()) << features.status().message();
  GenerateRequest req;
  req.inputs["input_features"] = *features;
  Tensor start = Tensor::Zeros(DType::kI64, {1, 1}).value();
  start.data<int64_t>()[0] = 91;
  req.inputs["decoder_input_ids"] = start;
  req.max_new_tokens = 23;
  req.eos_token_ids = {90};
  req.pad_token_id = 90;
  auto ids = (*model)->Generate(req);
  ASSERT_TRUE(ids.ok());
  std::vector<int64_t> expected(ids->data<int64_t>() + 1, ids->data<int64_t>() + ids->numel());
  EXPECT_EQ(j["ids"].get<std::vector<int64_t>>(), expected);
  EXPECT_EQ(test::RunCli("transcribe --model " + dir + " " + kWhisperWav + " --timestamps").exit_code, 2);
  EXPECT_EQ(test::RunCli("transcribe --model " + dir + " " + kWhisperWav + " --language en").exit_code, 2);
  fs::remove_all(dir);
}

TEST(WhisperTranscribe, DetectsTheLanguageAsTheArgmaxOverLanguageTokensAfterStart) {
  const std::string dir = WhisperCopy(true);
  auto r = test::RunCli("transcribe --model " + dir + " " + kWhisperWav + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  // HF's detect_language: logits after <|startoftranscript|>, argmax among lang_to_id's ids.
  auto model = LoadedModel::Load(dir);
  ASSERT_TRUE(model.ok());
  auto cfg = preprocess::AudioFeatureConfig::Load(dir + "/preprocessor_config.json");
  std::string name;
  auto audio = preprocess::LoadAudio(kWhisperWav);
  ASSERT_TRUE(audio.ok());
  auto features = preprocess::ExtractAudioFeatures(*audio, *cfg, &name);
  ASSERT_TRUE(features.ok());
  Tensor start = Tensor::Zeros(DType::kI64, {1, 1}).value();
  start.data<int64_t>()[0] = kWStart;
  auto out = (*model)->Run({{"input_features", *features}, {"decoder_input_ids", start}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  const float* logits = (*out)["logits"].data<float>();
  const int64_t best = std::max_element(logits + 72, logits + 75) - logits;
  const char* names[] = {"<|en|>", "<|de|>", "<|fr|>"};
  ASSERT_TRUE(j.contains("language")) << r.out;
  EXPECT_EQ(j["language"], names[best - 72]);
  const auto ids = j["ids"].get<std::vector<int64_t>>();
  ASSERT_FALSE(ids.empty());
  for (int64_t b : kWBeginSuppress) EXPECT_NE(ids[0], b);
  for (int64_t id : ids) {
    for (int64_t s : kWSuppress) EXPECT_NE(id, s);
  }
  EXPECT_FALSE(j.contains("segments"));
  EXPECT_FALSE(j["text"].get<std::string>().empty());
  // Naming the detected language gives the same decoding (prompt prefilled instead of decoded).
  auto named = test::RunCli("transcribe --model " + dir + " " + kWhisperWav + " --json --language '" + std::string(names[best - 72]) + "'");
  ASSERT_EQ(named.exit_code, 0) << named.out;
  EXPECT_EQ(nlohmann::json::parse(named.out)["ids"], j["ids"]);
  fs::remove_all(dir);
}

TEST(WhisperTranscribe, TimestampsFollowTheRulesAndPrintTimedSegments) {
  const std::string dir = WhisperCopy(true);
  auto r = test::RunCli("transcribe --model " + dir + " " + kWhisperWav + " --language de --timestamps --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["language"], "<|de|>");
  const auto ids = j["ids"].get<std::vector<int64_t>>();
  ASSERT_FALSE(ids.empty());
  EXPECT_GE(ids[0], kWTs);
  EXPECT_LE(ids[0], kWTs + kWMaxInitial);
  int64_t last_ts = -1;
  for (size_t i = 0; i < ids.size(); ++i) {
    const bool ts = ids[i] >= kWTs;
    EXPECT_NE(ids[i], kWNoTs);
    if (ts) {
      EXPECT_GE(ids[i], last_ts) << i;
      last_ts = ids[i];
      if (i >= 2) { EXPECT_FALSE(ids[i - 1] >= kWTs && ids[i - 2] >= kWTs) << "three timestamps in a row at " << i; }
    } else if (i >= 1 && ids[i - 1] >= kWTs && ids[i] < kWEos) {
      // Text (ids below EOS) after a timestamp only when that timestamp opened a segment.
      EXPECT_TRUE(i == 1 || ids[i - 2] >= kWTs) << "text right after a closing timestamp at " << i;
    }
  }
  const auto expected = generation::TimestampSegments(ids, kWTs);
  ASSERT_TRUE(j["segments"].is_array());
  ASSERT_EQ(j["segments"].size(), expected.size()) << r.out;
  EXPECT_FALSE(expected.empty()) << r.out;
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& s = j["segments"][i];
    EXPECT_NEAR(s["start"].get<double>(), expected[i].start, 1e-9);
    EXPECT_NEAR(s["end"].get<double>(), expected[i].end, 1e-9);
    EXPECT_LE(s["start"].get<double>(), s["end"].get<double>());
    EXPECT_EQ(s["ids"].get<std::vector<int64_t>>(), expected[i].tokens);
    EXPECT_FALSE(s["text"].get<std::string>().empty());
  }
  EXPECT_EQ(j["text"].get<std::string>().find("<|"), std::string::npos) << "timestamps are not text";
  // Plain output: one "[start -> end] text" line per segment.
  auto plain = test::RunCli("transcribe --model " + dir + " " + kWhisperWav + " --language de --timestamps");
  ASSERT_EQ(plain.exit_code, 0) << plain.out;
  std::istringstream lines(plain.out);
  std::string line;
  size_t n = 0;
  const std::regex shape(R"(\[\d+\.\d\d -> \d+\.\d\d\] .+)");
  while (std::getline(lines, line)) {
    EXPECT_TRUE(std::regex_match(line, shape)) << line;
    ++n;
  }
  EXPECT_EQ(n, expected.size()) << plain.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace accel
