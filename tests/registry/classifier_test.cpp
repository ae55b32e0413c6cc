// Family classification of the fixture models (known types) and of configs whose model_type
// the catalog does not know (evidence voting).
#include <fstream>

#include <gtest/gtest.h>

#include "registry/classifier.h"
#include "test_util.h"

namespace accel::registry {
namespace {

Classification ClassifyConfig(const std::string& name) {
  auto ev = GatherEvidence(test::DataDir() + "/registry/configs/" + name + ".json");
  EXPECT_TRUE(ev.ok()) << name << ": " << ev.status().message();
  return Classify(*ev, ModelCatalog::Builtin());
}

Classification ClassifyJson(const char* json, const std::string& name = "some/model") {
  auto cfg = HfConfig::Parse(json, "config.json");
  EXPECT_TRUE(cfg.ok());
  return Classify(EvidenceFromConfig(*cfg, name), ModelCatalog::Builtin());
}

TEST(Classifier, FixtureModelsByCatalog) {
  struct Case {
    const char* fixture;
    const char* family;
    const char* first_task;
  } cases[] = {
      {"bert-tiny", "text-embedding", "feature-extraction"},
      {"distilbert-tiny", "text-embedding", "feature-extraction"},
      {"llama-tiny-gqa", "text-generation", "text-generation"},
      {"qwen2-tiny", "text-generation", "text-generation"},
      {"gpt2-tiny", "text-generation", "text-generation"},
      {"t5-tiny", "text2text-generation", "text2text-generation"},
      {"mt5-tiny", "text2text-generation", "text2text-generation"},
      {"vit-tiny", "vision", "image-classification"},
      {"detr-tiny", "vision", "object-detection"},
      {"clip-tiny", "multimodal", "zero-shot-image-classification"},
      {"llava-tiny", "multimodal", "image-text-to-text"},
      {"llava-next-tiny", "multimodal", "image-text-to-text"},
      {"whisper-tiny", "audio", "automatic-speech-recognition"},
      {"wav2vec2-tiny-group", "audio", "automatic-speech-recognition"},
  };
  for (const auto& c : cases) {
    Classification r = ClassifyConfig(c.fixture);
    EXPECT_TRUE(r.in_catalog) << c.fixture;
    EXPECT_EQ(r.family, c.family) << c.fixture;
    ASSERT_FALSE(r.tasks.empty());
    EXPECT_EQ(r.tasks.front(), c.first_task) << c.fixture;
    EXPECT_GE(r.confidence, 0.95) << c.fixture;
    EXPECT_FALSE(r.evidence.empty());
  }
}

TEST(Classifier, ArchitectureHeadRefinesTaskOfKnownType) {
  Classification r = ClassifyJson(R"({"model_type":"bert","architectures":["BertForSequenceClassification"]})");
  EXPECT_EQ(r.family, "text-embedding");
  EXPECT_EQ(r.tasks.front(), "text-classification");
  EXPECT_DOUBLE_EQ(r.confidence, 0.99);
}

TEST(Classifier, UnknownDecoderFromArchitectureAndRopeKeys) {
  Classification r = ClassifyJson(R"({"model_type":"acme_lm","architectures":["AcmeForCausalLM"],
      "vocab_size":32000,"hidden_size":1024,"num_hidden_layers":4,"num_key_value_heads":2,"rope_theta":10000})");
  EXPECT_FALSE(r.in_catalog);
  EXPECT_EQ(r.family, "text-generation");
  EXPECT_EQ(r.support, Support::kUnsupported);
  EXPECT_GT(r.confidence, 0.5);
  EXPECT_LE(r.confidence, 0.9);
  bool mentions_arch = false;
  for (const auto& e : r.evidence) mentions_arch |= e.find("AcmeForCausalLM") != std::string::npos;
  EXPECT_TRUE(mentions_arch);
}

TEST(Classifier, UnknownMultimodalAndAudioFromConfigKeys) {
  Classification vl = ClassifyJson(R"({"model_type":"newclip","vision_config":{},"text_config":{},"projection_dim":512})");
  EXPECT_EQ(vl.family, "multimodal");
  EXPECT_EQ(vl.subfamily, "vision-language-contrastive");
  Classification asr = ClassifyJson(R"({"model_type":"newasr","num_mel_bins":80,"is_encoder_decoder":true,"d_model":384})");
  EXPECT_EQ(asr.family, "audio");
  Classification ctc = ClassifyJson(R"({"model_type":"newctc","conv_dim":[512,512],"feat_extract_norm":"group"})");
  EXPECT_EQ(ctc.family, "audio");
  Classification vis = ClassifyJson(R"({"model_type":"newvit","image_size":224,"patch_size":16,"num_channels":3})");
  EXPECT_EQ(vis.family, "vision");
}

TEST(Classifier, FilesAndNameVoteForFolders) {
  std::string dir = test::MakeTempDir("classify");
  std::ofstream(dir + "/config.json") << R"({"model_type":"mystery","hidden_size":384})";
  std::ofstream(dir + "/modules.json") << "[]";
  std::ofstream(dir + "/tokenizer.json") << "{}";
  auto ev = GatherEvidence(dir);
  ASSERT_TRUE(ev.ok()) << ev.status().message();
  Classification r = Classify(*ev, ModelCatalog::Builtin());
  EXPECT_EQ(r.family, "text-embedding");
  EXPECT_EQ(r.subfamily, "sentence-embedding");
  Classification named = ClassifyJson(R"({"model_type":"zzz"})", "acme/whisper-large-v9");
  EXPECT_EQ(named.family, "audio");
  EXPECT_LT(named.confidence, 0.5);  // one weak hint
}

TEST(Classifier, NoSignalAtAllIsUnknownNotACrash) {
  Classification r = ClassifyJson(R"({})");
  EXPECT_EQ(r.family, "unknown");
  EXPECT_EQ(r.confidence, 0);
  Classification odd = ClassifyJson(R"({"model_type":42,"architectures":"not a list","vision_config":7})");
  EXPECT_FALSE(odd.in_catalog);
}

TEST(Evidence, ErrorsNameWhatIsWrong) {
  auto missing = GatherEvidence("/nonexistent/model");
  ASSERT_FALSE(missing.ok());
  std::string dir = test::MakeTempDir("broken-link");
  std::filesystem::create_symlink(dir + "/../blob-that-is-not-there", dir + "/config.json");
  auto broken = GatherEvidence(dir);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("broken symlink"), std::string::npos) << broken.status().message();
  std::ofstream(dir + "/../accel-bad-config.json") << "{not json";
  auto bad = GatherEvidence(dir + "/../accel-bad-config.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace accel::registry
