#include "serve/model_registry.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "models/decoder/kv_cache.h"


namespace accel::serve {

Result<ModelSpec> ParseModelSpec(const std::string& arg) {
  ModelSpec s;
  auto eq = arg.find('=');
  if (eq != std::string::npos) {
    s.name = arg.substr(0, eq);
    s.path = arg.substr(eq + 1);
  } else {
    s.path = arg;
    std::filesystem::path p(arg);
    while (!p.empty() && p.filename().empty()) p = p.parent_path();  // "dir/" -> "dir"
    s.name = p.filename().string();
    if (s.name.size() > 5 && s.name.compare(s.name.size() - 5, 5, ".gguf") == 0) s.name.resize(s.name.size() - 5);
  }
  if (s.name.empty() || s.path.empty()) return InvalidArgument("-m '" + arg + "': give PATH or NAME=PATH");
  return s;
}

Result<std::unique_ptr<ServedModel>> ServedModel::Load(const ModelSpec& spec, const ServedModelOptions& options) {
  if (options.parallel < 1) return InvalidArgument("serve: --parallel must be >= 1");
  if (options.slot_context < 2) return InvalidArgument("serve: --slot-context must be >= 2");
  ACCEL_ASSIGN_OR_RETURN(DType kv_dtype, decoder::KvCache::ParseDType(options.kv_cache));
  auto m = std::unique_ptr<ServedModel>(new ServedModel());
  m->name_ = spec.name;
  m->max_queue_ = options.max_queue;
  m->created_ = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  LoadOptions load;
  load.device = options.device;
  ACCEL_ASSIGN_OR_RETURN(m->text_, TextModel::Load(spec.path, load));
  m->kind_ = m->text_->lm() ? Kind::kGenerate : Kind::kEmbed;
  if (m->kind_ == Kind::kGenerate) {
    generation::BatchOptions batch;
    batch.slots = options.parallel;
    batch.slot_capacity = std::min(options.slot_context, m->text_->context_length());
    batch.kv_cache_dtype = kv_dtype;
    // A KV cache type the model or its backend cannot take is refused here, not at the first request.
    auto batcher = generation::ContinuousBatcher::Create(*m->text_->lm(), m->text_->model().backend(), m->text_->TextDecoderFn(), batch);
    if (!batcher.ok()) return Status(batcher.status().code(), "serve: model '" + spec.name + "': " + batcher.status().message());
    m->batcher_ = std::move(*batcher);
  }
  return m;
}

int64_t ServedModel::context_length() const {
  return batcher_ ? batcher_->slot_capacity() : text_->context_length();
}

int ServedModel::running() const {
  return batcher_ ? static_cast<int>(batcher_->stats().running) : running_.load();
}

std::unique_ptr<ServedModel::Ticket> ServedModel::TryAdmit() {
  const int limit = max_running() + max_queue_;
  int cur = in_flight_.load();
  do {
    if (cur >= limit) return nullptr;
  } while (!in_flight_.compare_exchange_weak(cur, cur + 1));
  return std::make_unique<Ticket>(this);
}

void ServedModel::Ticket::Run() {
  if (lock_.owns_lock() || m_->batcher_) return;
  lock_ = std::unique_lock<std::mutex>(m_->run_mu_);
  ++m_->running_;
}

ServedModel::Ticket::~Ticket() {
  if (lock_.owns_lock()) {
    --m_->running_;
    lock_.unlock();
  }
  --m_->in_flight_;
}

Status ModelRegistry::Add(std::unique_ptr<ServedModel> model) {
  if (Find(model->name())) return InvalidArgument("two models are named '" + model->name() + "': use -m NAME=PATH");
  models_.push_back(std::move(model));
  return Status::Ok();
}

ServedModel* ModelRegistry::Find(const std::string& name) const {
  for (const auto& m : models_)
    if (m->name() == name) return m.get();
  return nullptr;
}

}  // namespace accel::serve
