#pragma once
// Where a model's files are: a folder, or a Hugging Face id resolved offline in the local HF
// cache; and the weights of that folder, single-file or sharded, as one name -> tensor store.
#include <cstdint>
#include <functional>
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

  // Called from Get with the bytes of the tensors handed out so far and of all tensors in the
  // store: a model converts its weights as it takes them, so this is how far its load has come.
  using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;
  void SetProgress(ProgressFn fn) { progress_ = std::move(fn); }

 private:
  uint64_t BytesOf(const std::string& name) const;
  void ReportTaken(const std::string& name);

  std::string label_;
  std::map<std::string, std::shared_ptr<SafetensorsFile>> by_name_;
  std::map<std::string, Tensor> in_memory_;
  std::set<std::string> used_;
  std::string prefix_;  // set by StripBasePrefix
  ProgressFn progress_;
  uint64_t progress_done_ = 0;
  uint64_t progress_total_ = 0;  // summed at the first Get, after any StripBasePrefix
};

}  // namespace accel
