#pragma once
// What can be known about a model before loading it: its config.json and the names of the
// files beside it. Gathered from a folder, a config.json path, or an HF id in the local cache.
#include <set>
#include <string>

#include "core/status.h"
#include "formats/hf_config.h"

namespace accel::registry {

struct ModelEvidence {
  std::string spec;             // what the user gave
  std::string dir;              // the model folder ("" when only a config file was given)
  HfConfig config;
  std::set<std::string> files;  // plain file names in `dir` (broken symlinks skipped)
  nlohmann::json preprocessor;  // preprocessor_config.json, or null
  nlohmann::json tokenizer_config;  // tokenizer_config.json, or null
};

Result<ModelEvidence> GatherEvidence(const std::string& spec);
// From a config already in memory (tests, `accel select` on a config).
ModelEvidence EvidenceFromConfig(HfConfig config, std::string name);

}  // namespace accel::registry
