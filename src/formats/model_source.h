#pragma once
// Where a model's files are: a folder, or a Hugging Face id resolved offline in the local HF
// cache; and the weights of that folder, single-file or sharded, as one name -> tensor store.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "formats/safetensors.h"

namespace accel {

// The HF hub cache folder: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
std::string HfHubCacheDir();

// `spec` is a folder (returned as is), or "org/name" or an org-less id ("gpt2") found in the HF cache
// (models--org--name/snapshots/<rev>/, the revision refs/main names, else the newest).
Result<std::string> ResolveModelDir(const std::string& spec);

class WeightStore {
 public:
  // Opens model.safetensors, or the shards listed in model.safetensors.index.json.
  static Result<WeightStore> Open(const std::string& dir);
  // A store over tensors already in memory (synthetic models, tests).
  static WeightStore FromTensors(std::map<std::string, Tensor> tensors, std::string label);

  bool Has(const std::string& name) const;
  // Returns the tensor and records it as used; the error names the file and tensor.
  Result<Tensor> Get(const std::string& name);
  // Like Get, but also checks the shape.
  Result<Tensor> Get(const std::string& name, const Shape& expected);
  std::vector<std::string> Names() const;
  // Tensors no one asked for: a checkpoint that does not match its config.
  std::vector<std::string> Unused() const;
  // Task checkpoints nest the base model under a prefix ("bert.", "roberta.") beside heads the
  // base model does not use (HF's base_model_prefix). When most tensors carry `prefix` + ".",
  // they are served without it and the rest are set aside (not reported as unused); returns
  // whether the prefix applied.
  bool StripBasePrefix(const std::string& prefix);
  const std::string& label() const { return label_; }

 private:
  std::string label_;
  std::map<std::string, std::shared_ptr<SafetensorsFile>> by_name_;
  std::map<std::string, Tensor> in_memory_;
  std::set<std::string> used_;
  std::string prefix_;  // set by StripBasePrefix
};

}  // namespace accel
