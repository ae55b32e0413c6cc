#pragma once
// Which model types the engine runs, and how to load each: one table, one place to add a model.
#include <memory>
#include <string>
#include <vector>

#include "models/model.h"

namespace accel::models {

struct ModelTemplate {
  const char* name;                         // "bert", "llama", ...
  std::vector<std::string> model_types;     // config.json model_type values it runs
  Result<std::unique_ptr<Model>> (*load)(ModelLoadContext&);
  bool generates_text = false;              // its models are (or contain) a CausalLm
};

const std::vector<ModelTemplate>& Templates();
const ModelTemplate* FindTemplate(const std::string& model_type);
bool IsSupportedModelType(const std::string& model_type);

}  // namespace accel::models
