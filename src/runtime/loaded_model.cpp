#include "runtime/loaded_model.h"

#include <algorithm>
#include <filesystem>

#include "formats/gguf_model.h"
#include "models/registry.h"
#include "runtime/devices.h"

namespace accel {

namespace {

// Buffers some checkpoints carry that no model reads.
bool IsIgnorableBuffer(const std::string& name) {
  auto ends_with = [&](const std::string& s) { return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0; };
  return ends_with("position_ids") || ends_with(".attn.bias") || ends_with(".attn.masked_bias") || ends_with("rotary_emb.inv_freq");
}

std::string JoinSome(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < 3; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 3) out += " (+" + std::to_string(names.size() - 3) + " more)";
  return out;
}

}  // namespace

Result<std::unique_ptr<LoadedModel>> LoadedModel::Load(const std::string& spec, const LoadOptions& options) {
  if (spec.size() > 5 && spec.compare(spec.size() - 5, 5, ".gguf") == 0) {
    ACCEL_ASSIGN_OR_RETURN(std::shared_ptr<GgufFile> file, GgufFile::Open(spec));
    ACCEL_ASSIGN_OR_RETURN(GgufModelParts parts, GgufToHf(*file));
    ACCEL_ASSIGN_OR_RETURN(auto loaded, FromParts(std::move(parts.config), std::move(parts.weights), options));
    loaded->dir_ = std::filesystem::path(spec).parent_path().string();  // tokenizer files beside the .gguf
    loaded->gguf_ = std::move(file);
    return loaded;
  }
  ACCEL_ASSIGN_OR_RETURN(std::string dir, ResolveModelDir(spec));
  ACCEL_ASSIGN_OR_RETURN(HfConfig config, HfConfig::Load((std::filesystem::path(dir) / "config.json").string()));
  ACCEL_RETURN_IF_ERROR(config.CheckSchema());
  if (!models::FindTemplate(config.model_type())) {
    return Unsupported(config.label() + ": unsupported model_type '" + config.model_type() + "'");
  }
  ACCEL_ASSIGN_OR_RETURN(WeightStore weights, WeightStore::Open(dir));
  ACCEL_ASSIGN_OR_RETURN(auto loaded, FromParts(std::move(config), std::move(weights), options));
  loaded->dir_ = dir;
  return loaded;
}

Result<std::unique_ptr<LoadedModel>> LoadedModel::FromParts(HfConfig config, WeightStore weights, const LoadOptions& options) {
  const models::ModelTemplate* tmpl = models::FindTemplate(config.model_type());
  if (!tmpl) return Unsupported(config.label() + ": unsupported model_type '" + config.model_type() + "'");
  std::unique_ptr<LoadedModel> m(new LoadedModel());
  m->config_ = std::move(config);
  m->weights_ = std::make_unique<WeightStore>(std::move(weights));
  m->weights_->SetProgress(options.on_progress);
  ACCEL_ASSIGN_OR_RETURN(m->backend_, CreateBackend(options.device));
  m->arena_.SetAllocator(m->backend_->allocator());
  ModelLoadContext ctx{m->config_, *m->weights_, *m->backend_, options.compute};
  ACCEL_ASSIGN_OR_RETURN(m->model_, tmpl->load(ctx));
  std::vector<std::string> extra;
  for (const auto& name : m->weights_->Unused()) {
    if (!IsIgnorableBuffer(name)) extra.push_back(name);
  }
  if (!extra.empty()) {
    return Corrupt(m->weights_->label() + ": tensors not used by " + m->model_->architecture() + ": " + JoinSome(extra));
  }
  return m;
}

Result<TensorMap> LoadedModel::Run(const TensorMap& inputs) {
  for (const auto& name : model_->required_inputs()) {
    if (!inputs.count(name)) return InvalidArgument("missing input '" + name + "' for " + model_->architecture());
  }
  auto accepted = model_->required_inputs();
  auto optional = model_->optional_inputs();
  accepted.insert(accepted.end(), optional.begin(), optional.end());
  for (const auto& [name, t] : inputs) {
    if (std::find(accepted.begin(), accepted.end(), name) == accepted.end()) {
      return InvalidArgument("input '" + name + "' is not accepted by " + model_->architecture());
    }
  }
  Exec exec(*backend_, arena_, &HostBackend());
  auto out = model_->Forward(exec, inputs);
  stats_.Add(exec.stats());
  arena_.Reset();
  return out;
}

}  // namespace accel

namespace accel {

Result<Tensor> LoadedModel::Generate(const GenerateRequest& request) {
  auto* generator = dynamic_cast<TextGenerator*>(model_.get());
  if (!generator) return Unsupported(model_->architecture() + " does not generate text");
  Exec exec(*backend_, arena_, &HostBackend());
  auto out = generator->GenerateGreedy(exec, request);
  stats_.Add(exec.stats());
  arena_.Reset();
  return out;
}

}  // namespace accel
