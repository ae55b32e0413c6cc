#pragma once
// The model catalog: every Hugging Face model_type we know, with its family, default tasks,
// modalities, the engine template that runs it, and whether that is proven. The data lives in
// src/registry/catalog.json (compiled in); this is only its loader and lookup.
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace accel::registry {

// supported = a test in the suite proves the type runs; planned = a template will cover it;
// unsupported = no template. Flip a type in catalog.json in the change that lands its test.
enum class Support { kSupported, kPlanned, kUnsupported };
const char* SupportName(Support s);

struct CatalogEntry {
  std::string model_type;
  std::string family;      // text-embedding, text-generation, text2text-generation, vision, audio, multimodal, ...
  std::string subfamily;   // decoder-only, encoder-decoder, image-backbone, speech-encoder, ...
  std::vector<std::string> tasks;       // HF pipeline tags, default first
  std::vector<std::string> modalities;  // text, image, audio, video, ...
  std::string template_name;            // engine template, empty if none
  Support support = Support::kUnsupported;
  bool key_class = false;               // one of the 13 model classes the project commits to
  std::vector<std::string> aliases;     // other spellings seen in configs ("x_clip")
};

class ModelCatalog {
 public:
  // Validates every entry (types, known support values, no duplicate names or aliases).
  static Result<ModelCatalog> Parse(std::string_view json_text, const std::string& label);
  // The catalog compiled into this binary.
  static const ModelCatalog& Builtin();

  // Exact name, then an alias, then a spelling-insensitive match ("XLM_Roberta" -> xlm-roberta).
  const CatalogEntry* Find(std::string_view model_type) const;
  const std::vector<CatalogEntry>& entries() const { return entries_; }

 private:
  std::vector<CatalogEntry> entries_;
  std::unordered_map<std::string, size_t> by_name_;        // names and aliases
  std::unordered_map<std::string, size_t> by_normalized_;  // lower case, '-' -> '_'
};

// Lower case with '-' turned into '_': the spelling-insensitive key.
std::string NormalizeModelType(std::string_view s);

}  // namespace accel::registry
