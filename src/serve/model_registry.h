#pragma once
// The models one `accel serve` holds: each loaded once at start, named by its folder (or
// `name=path`), either a decoder (generation: chat, completions) or an encoder (embeddings).
// A generator decodes up to `parallel` sequences together (a ContinuousBatcher: requests join
// the running batch between decode steps); an encoder runs one request at a time. Requests take
// a Ticket first: at most `parallel` (generators) or 1 (encoders) running plus max_queue
// waiting, else the caller answers 429.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "runtime/generation/continuous_batcher.h"
#include "runtime/text_model.h"

namespace accel::serve {

struct ModelSpec {
  std::string name, path;
};
// "name=path" or "path" (named by its folder, or its file name without .gguf).
Result<ModelSpec> ParseModelSpec(const std::string& arg);

struct EmbedJob;  // serve/engine.cpp

struct ServedModelOptions {
  std::string device = "auto";
  int max_queue = 8;           // requests waiting beyond the running ones before 429
  int parallel = 4;            // generators: sequences decoded together
  int64_t slot_context = 2048; // generators: tokens per sequence (prompt + output), capped by the model's context
  std::string kv_cache = "f32";  // generators: KV cache storage, f32 | q8_0 | q4_0
};

class ServedModel {
 public:
  enum class Kind { kGenerate, kEmbed };

  static Result<std::unique_ptr<ServedModel>> Load(const ModelSpec& spec, const ServedModelOptions& options);

  const std::string& name() const { return name_; }
  Kind kind() const { return kind_; }
  TextModel& text_model() { return *text_; }
  LoadedModel& model() { return text_->model(); }
  CausalLm* lm() { return text_->lm(); }  // decoders only
  Tokenizer* tokenizer() { return text_->tokenizer(); }  // null when the folder has none (ids only)
  const std::optional<text::ChatTemplate>& chat_template() const { return text_->chat_template(); }
  Pooling pooling() const { return text_->pooling(); }
  // Tokens one request may use: the model's context, for a generator capped by its batch slot.
  int64_t context_length() const;
  // Generators: the batch every generation request joins.
  generation::ContinuousBatcher* batcher() { return batcher_.get(); }
  int64_t created() const { return created_; }

  // Admission: at most max_running() running and max_queue() waiting. The Ticket is released
  // when destroyed.
  class Ticket {
   public:
    explicit Ticket(ServedModel* m) : m_(m) {}
    Ticket(const Ticket&) = delete;
    ~Ticket();
    // Encoders: blocks until this request has the model, and keeps it until the Ticket is
    // destroyed. A generator's requests need no lock: they queue in its batcher.
    void Run();

   private:
    ServedModel* m_;
    std::unique_lock<std::mutex> lock_;
  };
  std::unique_ptr<Ticket> TryAdmit();
  int in_flight() const { return in_flight_.load(); }
  int running() const;
  int queued() const { return std::max(0, in_flight_.load() - running()); }
  int max_running() const { return batcher_ ? static_cast<int>(batcher_->slots()) : 1; }
  int max_queue() const { return max_queue_; }

  // Embedding requests admitted and waiting for this model; RunEmbeddingBatched (engine.h) runs
  // them together.
  struct PendingEmbeds {
    std::mutex mu;
    std::deque<EmbedJob*> jobs;
  };
  PendingEmbeds& pending_embeds() { return pending_embeds_; }

 private:
  friend class Ticket;
  std::string name_;
  Kind kind_ = Kind::kEmbed;
  std::unique_ptr<TextModel> text_;
  std::unique_ptr<generation::ContinuousBatcher> batcher_;  // declared after text_: stops first
  int64_t created_ = 0;
  int max_queue_ = 0;
  std::atomic<int> in_flight_{0}, running_{0};
  std::mutex run_mu_;
  PendingEmbeds pending_embeds_;
};

class ModelRegistry {
 public:
  Status Add(std::unique_ptr<ServedModel> model);
  ServedModel* Find(const std::string& name) const;
  // The only model, when exactly one is served (TEI requests name none).
  ServedModel* Single() const { return models_.size() == 1 ? models_[0].get() : nullptr; }
  // The only model of `kind` (TEI and TGI serve one model, so their requests name none).
  ServedModel* OnlyOfKind(ServedModel::Kind kind) const {
    ServedModel* found = nullptr;
    for (const auto& m : models_) {
      if (m->kind() != kind) continue;
      if (found) return nullptr;
      found = m.get();
    }
    return found;
  }
  const std::vector<std::unique_ptr<ServedModel>>& models() const { return models_; }

 private:
  std::vector<std::unique_ptr<ServedModel>> models_;
};

}  // namespace accel::serve
