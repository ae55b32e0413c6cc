#pragma once
// Which family a model belongs to, from what is known before loading it. A model_type the
// catalog knows decides the family; the architecture class name refines the task. For types
// the catalog does not know, signals (architecture suffix, config keys, files present, name
// patterns) vote, and the confidence says how sure the vote is. Every signal used is listed
// as evidence so a user can see why.
#include <string>
#include <vector>

#include "registry/catalog.h"
#include "registry/model_evidence.h"

namespace accel::registry {

struct Classification {
  std::string model_type;
  bool in_catalog = false;
  std::string family;
  std::string subfamily;
  std::vector<std::string> tasks;
  std::vector<std::string> modalities;
  std::string template_name;
  Support support = Support::kUnsupported;
  bool key_class = false;
  double confidence = 0;               // 0..1
  std::vector<std::string> evidence;   // one line per signal used
};

Classification Classify(const ModelEvidence& evidence, const ModelCatalog& catalog);

}  // namespace accel::registry
