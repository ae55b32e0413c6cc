// The built-in catalog (src/registry/catalog.json) and its loader's validation.
#include <set>

#include <gtest/gtest.h>

#include "models/registry.h"

#include "registry/catalog.h"

namespace accel::registry {
namespace {

TEST(Catalog, AtLeast300ModelTypesEachComplete) {
  const auto& cat = ModelCatalog::Builtin();
  EXPECT_GE(cat.entries().size(), 300u);
  std::set<std::string> families;
  for (const auto& e : cat.entries()) {
    EXPECT_FALSE(e.tasks.empty()) << e.model_type;
    EXPECT_FALSE(e.modalities.empty()) << e.model_type;
    families.insert(e.family);
  }
  for (const char* f : {"text-embedding", "text-generation", "text2text-generation", "vision", "audio", "multimodal"})
    EXPECT_TRUE(families.count(f)) << f;
}

TEST(Catalog, ThirteenKeyClassesFlagged) {
  const auto& cat = ModelCatalog::Builtin();
  std::set<std::string> flagged;
  for (const auto& e : cat.entries())
    if (e.key_class) flagged.insert(e.model_type);
  EXPECT_EQ(flagged.size(), 13u);
  for (const char* t : {"bert", "t5", "llama", "clip", "vit", "clap", "whisper", "wav2vec2", "llava", "llava_next",
                        "x_clip", "qwen2", "detr"}) {
    const CatalogEntry* e = cat.Find(t);
    ASSERT_NE(e, nullptr) << t;
    EXPECT_TRUE(e->key_class) << t;
  }
}

TEST(Catalog, SupportIsHonest) {
  // "supported" means the engine registers the type (and the fixture tests run it); the
  // catalog and the model registry must say the same thing, template included.
  for (const auto& e : ModelCatalog::Builtin().entries()) {
    const auto* t = models::FindTemplate(e.model_type);
    EXPECT_EQ(e.support == Support::kSupported, t != nullptr) << e.model_type;
    if (t) { EXPECT_EQ(e.template_name, t->name) << e.model_type; }
    if (e.support == Support::kPlanned) { EXPECT_FALSE(e.template_name.empty()) << e.model_type; }
  }
  for (const auto& t : models::Templates()) {
    for (const auto& mt : t.model_types) {
      const CatalogEntry* e = ModelCatalog::Builtin().Find(mt);
      ASSERT_NE(e, nullptr) << mt << " is registered but missing from the catalog";
      EXPECT_EQ(e->support, Support::kSupported) << mt;
    }
  }
  EXPECT_EQ(ModelCatalog::Builtin().Find("mistral")->template_name, "llama");
  EXPECT_EQ(ModelCatalog::Builtin().Find("bart")->support, Support::kUnsupported);
}

TEST(Catalog, LookupByAliasAndSpelling) {
  const auto& cat = ModelCatalog::Builtin();
  EXPECT_EQ(cat.Find("x_clip")->model_type, "xclip");
  EXPECT_EQ(cat.Find("XLM_Roberta")->model_type, "xlm-roberta");
  EXPECT_EQ(cat.Find("gpt-neox")->model_type, "gpt_neox");
  EXPECT_EQ(cat.Find("no-such-model"), nullptr);
  EXPECT_EQ(cat.Find(""), nullptr);
}

TEST(Catalog, ParseRejectsBadFilesWithTheirLocation) {
  auto expect_error = [](const char* text, const char* fragment) {
    auto r = ModelCatalog::Parse(text, "cat.json");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
  };
  expect_error("not json", "not valid JSON");
  expect_error("{\"models\": 3}", "'models' list");
  expect_error("{\"models\": [{\"family\": \"x\"}]}", "models[0]: 'model_type'");
  const char* base = R"({"model_type":"a","family":"f","subfamily":"s","tasks":["t"],"modalities":["text"],)";
  expect_error((std::string(R"({"models":[)") + base + R"("template":null,"support":"maybe"}]})").c_str(), "support 'maybe'");
  expect_error((std::string(R"({"models":[)") + base + R"("template":null,"support":"supported"}]})").c_str(), "needs a template");
  expect_error((std::string(R"({"models":[)") + base + R"("template":"x","support":"planned"},)" + base +
                R"("template":null,"support":"unsupported"}]})").c_str(), "listed twice");
  auto ok = ModelCatalog::Parse((std::string(R"({"models":[)") + base + R"("template":"x","support":"supported"}]})"), "c");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->Find("a")->support, Support::kSupported);
}


}  // namespace
}  // namespace accel::registry
