// Issue 19: real config.json files omit the keys that equal their config class's defaults. The
// defaults table (src/formats/config_defaults.json) fills them in when a config is read, so the
// classifier, the memory estimator and the model loaders see the values HF would.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "formats/config_defaults.h"
#include "models/registry.h"
#include "registry/catalog.h"
#include "registry/classifier.h"
#include "registry/memory_estimator.h"
#include "test_util.h"

namespace accel::registry {
namespace {

namespace fs = std::filesystem;

HfConfig Config(const std::string& json) {
  auto c = HfConfig::Parse(json, "config.json");
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : HfConfig();
}

std::string SparseConfig(const std::string& name) { return test::DataDir() + "/configs/" + name + ".json"; }

TEST(ConfigDefaults, EveryEngineTypeAndTheIssuesListHaveDefaults) {
  for (const auto& t : models::Templates())
    for (const auto& type : t.model_types) EXPECT_NE(ConfigClassDefaults(type), nullptr) << type;
  for (const char* type : {"llava", "llava_next", "detr", "swin", "convnext", "clap", "xclip", "siglip", "dinov2", "beit",
                           "resnet", "clip_text_model", "clip_vision_model"})
    EXPECT_NE(ConfigClassDefaults(type), nullptr) << type;
  EXPECT_EQ(ConfigClassDefaults("no-such-type"), nullptr);
  // "like" entries inherit and override.
  EXPECT_EQ(ConfigClassDefaults("roberta")->at("vocab_size"), 50265);
  EXPECT_EQ(ConfigClassDefaults("roberta")->at("hidden_size"), 768);
  EXPECT_EQ(ConfigClassDefaults("mt5")->at("feed_forward_proj"), "gated-gelu");
  EXPECT_EQ(ConfigClassDefaults("mt5")->at("d_model"), 512);
}

TEST(ConfigDefaults, OmittedKeysAreFilledAndFileKeysWin) {
  HfConfig c = Config(R"({"model_type":"bert","hidden_size":128,"num_attention_heads":null})");
  EXPECT_EQ(c.IntOr("hidden_size", 0), 128);
  EXPECT_FALSE(c.IsDefault("hidden_size"));
  EXPECT_EQ(c.IntOr("num_hidden_layers", 0), 12);
  EXPECT_TRUE(c.IsDefault("num_hidden_layers"));
  EXPECT_DOUBLE_EQ(c.FloatOr("layer_norm_eps", 0), 1e-12);
  EXPECT_EQ(c.StringOr("hidden_act", ""), "gelu");
  // An explicit null is the file's value: it is not replaced.
  EXPECT_TRUE(c.doc().at("num_attention_heads").is_null());
  EXPECT_FALSE(c.Has("num_attention_heads"));
  EXPECT_EQ(c.Describe("num_hidden_layers"), "'num_hidden_layers' = 12 (the bert default)");
  EXPECT_EQ(c.Describe("hidden_size"), "'hidden_size' = 128");
  // Unknown or missing model types are left as they are.
  EXPECT_FALSE(Config(R"({"model_type":"mystery","hidden_size":8})").Has("num_hidden_layers"));
  EXPECT_FALSE(Config(R"({"hidden_size":8})").Has("num_hidden_layers"));
  // FromJson takes the document as it is.
  EXPECT_FALSE(HfConfig::FromJson(nlohmann::json{{"model_type", "bert"}}, "x").Has("hidden_size"));
}

TEST(ConfigDefaults, AliasesSetTheKeyTheyName) {
  // GPT-2 accepts hidden_size for n_embd (attribute_map): the file's value, not the default.
  HfConfig gpt2 = Config(R"({"model_type":"gpt2","hidden_size":256,"num_hidden_layers":3})");
  EXPECT_EQ(gpt2.IntOr("n_embd", 0), 256);
  EXPECT_EQ(gpt2.IntOr("n_layer", 0), 3);
  EXPECT_EQ(gpt2.IntOr("n_head", 0), 12);
  EXPECT_EQ(gpt2.Describe("n_embd"), "'n_embd' = 256 (from 'hidden_size')");
  HfConfig bloom = Config(R"({"model_type":"bloom","n_embed":1024,"n_layer":24,"num_attention_heads":16})");
  EXPECT_EQ(bloom.IntOr("hidden_size", 0), 1024);
  EXPECT_EQ(bloom.IntOr("n_head", 0), 16);
}

TEST(ConfigDefaults, NestedConfigsUseTheirOwnTypesDefaults) {
  HfConfig c = Config(R"({"model_type":"llava","text_config":{"vocab_size":32064,"rms_norm_eps":1e-05},
                          "vision_config":{"hidden_size":1024,"model_type":"clip_vision_model"}})");
  HfConfig text = c.Sub("text_config");
  EXPECT_EQ(text.model_type(), "llama");  // LlavaConfig's default text model
  EXPECT_TRUE(text.IsDefault("model_type"));
  EXPECT_EQ(text.IntOr("vocab_size", 0), 32064);
  EXPECT_EQ(text.IntOr("hidden_size", 0), 4096);
  EXPECT_EQ(text.IntOr("num_hidden_layers", 0), 32);
  EXPECT_NE(text.Describe("hidden_size").find("(the llama default)"), std::string::npos);
  HfConfig vision = c.Sub("vision_config");
  EXPECT_EQ(vision.IntOr("hidden_size", 0), 1024);
  EXPECT_EQ(vision.IntOr("patch_size", 0), 32);  // CLIPVisionConfig's own default when the dict is given
  EXPECT_EQ(c.IntOr("image_token_index", 0), 32000);
  // No vision_config at all: HF builds LLaVA-1.5's tower (336 px, patch 14, 24 layers of 1024).
  HfConfig bare = Config(R"({"model_type":"llava"})");
  EXPECT_EQ(bare.Sub("vision_config").IntOr("patch_size", 0), 14);
  EXPECT_EQ(bare.Sub("vision_config").IntOr("num_hidden_layers", 0), 24);
  EXPECT_EQ(bare.Sub("text_config").IntOr("intermediate_size", 0), 11008);
  // A nested config that names its own type (Mistral inside LLaVA-NeXT) uses that type.
  HfConfig next = Config(R"({"model_type":"llava_next","text_config":{"model_type":"mistral"}})");
  EXPECT_EQ(next.Sub("text_config").IntOr("num_key_value_heads", 0), 8);
  EXPECT_TRUE(next.doc().contains("image_grid_pinpoints"));
  // CLIP, SigLIP, CLAP: the slots' default types.
  EXPECT_EQ(Config(R"({"model_type":"clip"})").Sub("text_config").IntOr("max_position_embeddings", 0), 77);
  EXPECT_EQ(Config(R"({"model_type":"siglip","vision_config":{}})").Sub("vision_config").IntOr("patch_size", 0), 16);
  EXPECT_EQ(Config(R"({"model_type":"clap"})").Sub("audio_config").model_type(), "clap_audio_model");
}

TEST(ConfigDefaults, SwinAndConvNextCountLayersFromDepths) {
  auto swin = GatherEvidence(SparseConfig("swin-tiny-patch4-window7-224"));
  ASSERT_TRUE(swin.ok()) << swin.status().message();
  auto dims = ReadDims(swin->config);
  ASSERT_TRUE(dims.ok()) << dims.status().message();
  EXPECT_EQ(dims->layers, 2 + 2 + 6 + 2);
  EXPECT_EQ(dims->hidden, 768);  // 96 doubled over four stages
  EXPECT_EQ(dims->heads, 24);

  auto convnext = ReadDims(Config(R"({"model_type":"convnext"})"));  // every key a default
  ASSERT_TRUE(convnext.ok()) << convnext.status().message();
  EXPECT_EQ(convnext->layers, 3 + 3 + 9 + 3);
  EXPECT_EQ(convnext->hidden, 768);

  // A file's depths win over the default ones.
  auto deeper = ReadDims(Config(R"({"model_type":"swin","depths":[2,2,18,2],"embed_dim":128})"));
  ASSERT_TRUE(deeper.ok());
  EXPECT_EQ(deeper->layers, 24);
  EXPECT_EQ(deeper->hidden, 1024);

  // Hostile depths are range errors naming the key, never overflows.
  for (const char* bad : {R"({"model_type":"swin","depths":[9000,9000]})", R"({"model_type":"swin","depths":[2,-1]})",
                          R"({"model_type":"swin","depths":[2,"x"]})"}) {
    auto d = ReadDims(Config(bad));
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_NE(d.status().message().find("'depths'"), std::string::npos) << d.status().message();
  }

  auto mismatch = ReadDims(Config(R"({"model_type":"convnext","depths":[3,3,9]})"));
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("'depths'"), std::string::npos) << mismatch.status().message();
  EXPECT_NE(mismatch.status().message().find("'hidden_sizes'"), std::string::npos) << mismatch.status().message();
}

// Published parameter counts of the models these sparse configs stand for; the estimate from the
// filled-in config should land near them.
TEST(ConfigDefaults, SparseConfigsEstimateNearPublishedSizes) {
  struct Case {
    const char* name;
    double published, tolerance;
  } cases[] = {
      {"bert-base-finetuned", 109.5e6, 0.03},   {"roberta-base-sparse", 124.6e6, 0.03},
      {"distilbert-base-uncased", 66.4e6, 0.03}, {"albert-base-v2-sparse", 11.7e6, 0.05},
      {"electra-small-discriminator", 13.5e6, 0.03}, {"gpt2-sparse", 124.4e6, 0.03},
      {"vit-base-patch16-224", 86.6e6, 0.05},   {"t5-small-sparse", 60.5e6, 0.03},
      {"mt5-small", 300.2e6, 0.03},             {"whisper-tiny-sparse", 37.8e6, 0.05},
      {"wav2vec2-base-960h", 94.4e6, 0.15},     {"mistral-7b-sparse", 7.24e9, 0.02},
      {"gemma-7b-sparse", 8.54e9, 0.02},        {"phi-3-mini-sparse", 3.82e9, 0.02},
      {"falcon-7b-sparse", 6.92e9, 0.02},       {"opt-125m-sparse", 125.2e6, 0.03},
      {"qwen3-8b-sparse", 8.19e9, 0.02},        {"llava-1.5-7b-hf", 7.06e9, 0.03},
      {"llava-v1.6-mistral-7b-hf", 7.57e9, 0.03}, {"swin-tiny-patch4-window7-224", 28.3e6, 0.1},
      {"swin-base-patch4-window7-224", 87.8e6, 0.1}, {"convnext-tiny-224", 28.6e6, 0.1},
      {"resnet-50", 25.6e6, 0.3},               {"clip-vit-base-patch32", 151.3e6, 0.05},
      {"siglip-base-patch16-224", 203.2e6, 0.1},
  };
  for (const auto& c : cases) {
    auto ev = GatherEvidence(SparseConfig(c.name));
    ASSERT_TRUE(ev.ok()) << c.name << ": " << ev.status().message();
    auto p = ParamsFromConfig(ev->config);
    ASSERT_TRUE(p.ok()) << c.name << ": " << p.status().message();
    EXPECT_NEAR(static_cast<double>(p->params), c.published, c.published * c.tolerance) << c.name;
  }
}

// The measurement of issue 19: every sparse hub-style config classifies through the catalog and
// gets a memory estimate (before the defaults table, 1 of these 33 did).
TEST(ConfigDefaults, EverySparseConfigClassifiesAndEstimates) {
  int files = 0;
  for (const auto& entry : fs::directory_iterator(test::DataDir() + "/configs")) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    const std::string name = entry.path().filename().string();
    auto ev = GatherEvidence(entry.path().string());
    ASSERT_TRUE(ev.ok()) << name << ": " << ev.status().message();
    Classification c = Classify(*ev, ModelCatalog::Builtin());
    EXPECT_TRUE(c.in_catalog) << name;
    auto params = CountParams(*ev);
    ASSERT_TRUE(params.ok()) << name << ": " << params.status().message();
    EXPECT_GT(params->params, 1000000) << name;
    const bool decoder = c.family == "text-generation" || c.subfamily == "vision-language-generation";
    auto m = EstimateMemory(ev->config, *params, DType::kBF16, 1, 512, decoder);
    ASSERT_TRUE(m.ok()) << name << ": " << m.status().message();
    if (decoder) {
      EXPECT_GT(m->kv_cache_bytes, 0) << name;
    }
  }
  EXPECT_GE(files, 26);
}

TEST(ConfigDefaults, LlavaKvCacheUsesTheDefaultedTextStack) {
  auto ev = GatherEvidence(SparseConfig("llava-1.5-7b-hf"));
  ASSERT_TRUE(ev.ok());
  auto params = CountParams(*ev);
  ASSERT_TRUE(params.ok());
  auto m = EstimateMemory(ev->config, *params, DType::kF16, 1, 1000, true);
  ASSERT_TRUE(m.ok()) << m.status().message();
  // LLaMA-7B defaults: 32 layers x 32 KV heads x 128 dims x K and V x 2 bytes x 1000 tokens.
  EXPECT_EQ(m->kv_cache_bytes, int64_t{32} * 32 * 128 * 2 * 2 * 1000);
}

// Loaders see the filled-in values: every engine fixture still verifies after its config.json
// loses every key (nested ones too) that equals its class's default, as a hub file written
// with only the differences would.
void DropDefaultValuedKeys(nlohmann::json& j, int& dropped) {
  if (!j.is_object() || !j.contains("model_type") || !j["model_type"].is_string()) return;
  const nlohmann::json* defaults = ConfigClassDefaults(j["model_type"].get<std::string>());
  for (auto it = j.begin(); it != j.end();) {
    if (it->is_object()) DropDefaultValuedKeys(*it, dropped);
    if (defaults && it.key() != "model_type" && defaults->contains(it.key()) && defaults->at(it.key()) == *it) {
      it = j.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
}

TEST(ConfigDefaults, FixturesVerifyWithoutTheirDefaultValuedKeys) {
  int fixtures = 0, dropped = 0;
  for (const auto& entry : fs::directory_iterator(test::DataDir() + "/models")) {
    std::ifstream in(entry.path() / "config.json");
    if (!in) continue;
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (!j.is_object() || !models::IsSupportedModelType(j.value("model_type", ""))) continue;
    const std::string dir = test::MakeTempDir("sparse-" + entry.path().filename().string());
    fs::copy(entry.path(), dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    int before = dropped;
    DropDefaultValuedKeys(j, dropped);
    std::ofstream(dir + "/config.json", std::ios::trunc) << j.dump(2);
    auto r = test::RunCli("verify " + dir);
    EXPECT_EQ(r.exit_code, 0) << entry.path().filename() << " without " << dropped - before << " keys:\n" << r.out;
    fs::remove_all(dir);
    ++fixtures;
  }
  EXPECT_GE(fixtures, 30);
  EXPECT_GE(dropped, 100);
}

TEST(ConfigDefaults, ClassifyCliAcceptsSparseConfigs) {
  for (const char* name : {"llava-1.5-7b-hf", "swin-tiny-patch4-window7-224", "convnext-tiny-224"}) {
    auto r = test::RunCli(std::string("classify ") + SparseConfig(name));
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.out;
    EXPECT_EQ(r.out.find("missing required key"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("filled from the"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace accel::registry
