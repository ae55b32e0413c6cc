#include "serve/engine.h"

#include <algorithm>

#include "runtime/text_embedding.h"

namespace accel::serve {
namespace {

ServeError FromStatus(const Status& s, int http = 400) {
  ServeError e;
  e.status = s.code() == StatusCode::kInvalidArgument ? 400 : http;
  if (e.status >= 500) e.type = "server_error";
  e.message = s.message();
  return e;
}

}  // namespace

std::optional<ServeError> PreparePrompt(ServedModel& m, const GenRequest& r, const GenerationLimits& limits, PreparedPrompt* out) {
  if (m.kind() != ServedModel::Kind::kGenerate)
    return ServeError{400, "invalid_request_error", "model_not_supported", "model '" + m.name() + "' is an embedding model, not a generator"};
  Tokenizer* tok = m.tokenizer();
  if (r.prompt_is_ids) {
    const int64_t vocab = m.lm()->vocab_size();
    for (int64_t t : r.prompt_ids)
      if (t < 0 || t >= vocab)
        return ServeError{400, "invalid_request_error", "invalid_token", "token id " + std::to_string(t) + " is outside the vocabulary of " + std::to_string(vocab)};
    out->ids = r.prompt_ids;
  } else {
    if (!tok) return ServeError{400, "invalid_request_error", "no_tokenizer", "model '" + m.name() + "' has no tokenizer: send the prompt as token ids"};
    if (r.chat && !m.chat_template())
      return ServeError{400, "invalid_request_error", "no_chat_template", "model '" + m.name() + "' has no chat template"};
    auto ids = r.chat ? m.text_model().ChatPromptIds(r.messages) : m.text_model().PromptIds(r.prompt);
    if (!ids.ok()) return FromStatus(ids.status());
    out->ids = std::move(*ids);
  }
  if (out->ids.empty()) return ServeError{400, "invalid_request_error", "empty_prompt", "the prompt has no tokens"};
  const int64_t context = m.context_length();
  const int64_t plen = static_cast<int64_t>(out->ids.size());
  if (plen >= context)
    return ServeError{400, "invalid_request_error", "context_length_exceeded",
                      "the prompt has " + std::to_string(plen) + " tokens; model '" + m.name() + "' has a context of " + std::to_string(context)};
  int64_t room = std::min(context - plen, limits.max_tokens);
  if (r.max_tokens >= 0) {
    if (r.max_tokens > limits.max_tokens)
      return ServeError{400, "invalid_request_error", "max_tokens", "max_tokens is over this server's limit of " + std::to_string(limits.max_tokens)};
    room = std::min(room, r.max_tokens);
  }
  out->max_new_tokens = room;
  return std::nullopt;
}

std::optional<ServeError> RunGeneration(ServedModel& m, const GenRequest& r, const PreparedPrompt& p,
                                        const PieceCallback& on_piece, GenOutcome* out) {
  generation::GenerationOptions o = m.text_model().DefaultGenerationOptions();
  o.max_new_tokens = p.max_new_tokens;
  o.sampling.temperature = r.temperature;
  o.sampling.top_k = r.top_k;
  o.sampling.top_p = r.top_p;
  o.sampling.min_p = r.min_p;
  o.sampling.repetition_penalty = r.repetition_penalty;
  o.sampling.presence_penalty = r.presence_penalty;
  o.sampling.frequency_penalty = r.frequency_penalty;
  if (r.seed) o.sampling.seed = *r.seed;
  if (r.ignore_eos) o.eos_token_ids.clear();
  if (m.tokenizer()) {
    o.stop_strings = r.stop;
  } else if (!r.stop.empty()) {
    return ServeError{400, "invalid_request_error", "no_tokenizer", "stop strings need a model with a tokenizer"};
  }
  // The sequence joins the model's running batch. Each token goes out with the text that became
  // showable with it, i.e. once the next event arrives (the end's held-back tail goes with the
  // last token); without a tokenizer the text is empty.
  auto seq = m.batcher()->Submit(p.ids, o);
  if (!seq.ok()) return FromStatus(seq.status(), 503);
  bool alive = true, have_token = false;
  int64_t last_token = -1;
  std::string pending;
  auto flush = [&] {
    if (!have_token) return;
    if (alive && !on_piece(last_token, pending)) {
      alive = false;
      (*seq)->Cancel();  // the client is gone: its slot and KV rows are freed at the next step
    }
    pending.clear();
    have_token = false;
  };
  for (;;) {
    generation::BatchEvent e = (*seq)->Next();
    if (e.kind == generation::BatchEvent::Kind::kToken) {
      flush();
      last_token = e.token;
      have_token = true;
      pending += e.text;
      continue;
    }
    if (!e.status.ok()) return FromStatus(e.status, 500);
    pending += e.text;
    flush();
    const generation::RowResult& row = e.result;
    out->tokens = row.tokens;
    out->text = row.text;
    out->finish_reason = (row.finish_reason == "length" || row.finish_reason == "context_limit") ? "length" : "stop";
    out->stopped_by_string = row.finish_reason == "stop";
    if (!alive || row.finish_reason == "callback") out->finish_reason = "cancelled";
    out->prompt_tokens = e.prompt_tokens;
    out->completion_tokens = static_cast<int64_t>(row.tokens.size());
    out->queue_seconds = e.queue_ms / 1e3;
    out->ttft_seconds = e.ttft_ms / 1e3;
    return std::nullopt;
  }
}

std::optional<ServeError> RunEmbedding(ServedModel& m, const EmbedRequest& r, EmbedOutcome* out) {
  if (m.kind() != ServedModel::Kind::kEmbed)
    return ServeError{400, "invalid_request_error", "model_not_supported", "model '" + m.name() + "' is a generator, not an embedding model"};
  LoadedModel& model = m.model();
  const int64_t context = m.context_length();
  if (!r.texts.empty()) {
    Tokenizer* tok = m.tokenizer();
    if (!tok) return ServeError{400, "invalid_request_error", "no_tokenizer", "model '" + m.name() + "' has no tokenizer: send token ids"};
    auto emb = m.text_model().Embed(r.texts, r.normalize);
    if (!emb.ok()) return FromStatus(emb.status(), 500);
    const int64_t dim = emb->dim(1);
    for (size_t i = 0; i < r.texts.size(); ++i) {
      const float* row = emb->data<float>() + i * dim;
      out->vectors.emplace_back(row, row + dim);
      auto enc = tok->Encode(r.texts[i], true);
      out->input_tokens.push_back(enc.ok() ? std::min<int64_t>(static_cast<int64_t>(enc->ids.size()), context) : 0);
      out->prompt_tokens += out->input_tokens.back();
    }
    return std::nullopt;
  }
  // Token ids: one padded batch, attention mask over the real tokens.
  const int64_t vocab = model.config().IntOr("vocab_size", 0);
  int64_t seq = 0;
  for (const auto& row : r.token_ids) {
    if (static_cast<int64_t>(row.size()) > context)
      return ServeError{400, "invalid_request_error", "context_length_exceeded",
                        "an input has " + std::to_string(row.size()) + " tokens; model '" + m.name() + "' takes at most " + std::to_string(context)};
    for (int64_t t : row)
      if (vocab > 0 && t >= vocab) return ServeError{400, "invalid_request_error", "invalid_token", "token id " + std::to_string(t) + " is outside the vocabulary of " + std::to_string(vocab)};
    seq = std::max<int64_t>(seq, static_cast<int64_t>(row.size()));
  }
  const int64_t batch = static_cast<int64_t>(r.token_ids.size());
  auto ids = Tensor::Zeros(DType::kI64, {batch, seq});
  auto mask = Tensor::Zeros(DType::kI64, {batch, seq});
  auto types = Tensor::Zeros(DType::kI64, {batch, seq});
  if (!ids.ok() || !mask.ok() || !types.ok()) return ServeError{500, "server_error", "", "out of memory"};
  const int64_t pad = model.config().IntOr("pad_token_id", 0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < seq; ++t) {
      const bool real = t < static_cast<int64_t>(r.token_ids[b].size());
      ids->data<int64_t>()[b * seq + t] = real ? r.token_ids[b][t] : pad;
      mask->data<int64_t>()[b * seq + t] = real ? 1 : 0;
      if (real) ++out->prompt_tokens;
    }
  TensorMap inputs{{"input_ids", *ids}, {"attention_mask", *mask}};
  auto accepted = model.model().optional_inputs();
  if (std::find(accepted.begin(), accepted.end(), "token_type_ids") != accepted.end()) inputs["token_type_ids"] = *types;
  auto res = model.Run(inputs);
  if (!res.ok()) return FromStatus(res.status(), 500);
  auto hidden = res->find("last_hidden_state");
  if (hidden == res->end()) return ServeError{400, "invalid_request_error", "model_not_supported", "the model has no last_hidden_state to pool"};
  auto pooled = PoolSentences(hidden->second, &*mask, m.pooling(), r.normalize);
  if (!pooled.ok()) return FromStatus(pooled.status(), 500);
  const int64_t dim = pooled->dim(1);
  for (int64_t b = 0; b < batch; ++b) {
    const float* row = pooled->data<float>() + b * dim;
    out->vectors.emplace_back(row, row + dim);
  }
  return std::nullopt;
}

struct EmbedJob {
  const EmbedRequest* request;
  EmbedOutcome* out;
  std::optional<ServeError> error;
  bool done = false;
};

namespace {

// Runs `jobs` (texts, one normalization) as one forward and splits the rows among them; on an
// error, each alone.
void RunEmbedJobs(ServedModel& m, const std::vector<EmbedJob*>& jobs) {
  EmbedRequest together = *jobs.front()->request;
  together.texts.clear();
  for (const EmbedJob* j : jobs) together.texts.insert(together.texts.end(), j->request->texts.begin(), j->request->texts.end());
  EmbedOutcome all;
  if (jobs.size() > 1 && !RunEmbedding(m, together, &all)) {
    size_t next = 0;
    for (EmbedJob* j : jobs) {
      for (size_t i = 0; i < j->request->texts.size(); ++i, ++next) {
        j->out->vectors.push_back(std::move(all.vectors[next]));
        j->out->input_tokens.push_back(all.input_tokens[next]);
        j->out->prompt_tokens += all.input_tokens[next];
      }
    }
    return;
  }
  for (EmbedJob* j : jobs) j->error = RunEmbedding(m, *j->request, j->out);
}

}  // namespace

std::optional<ServeError> RunEmbeddingBatched(ServedModel& m, ServedModel::Ticket& ticket, const EmbedRequest& r, size_t max_batch_texts,
                                              Metrics& metrics, EmbedOutcome* out) {
  if (r.texts.empty() || m.kind() != ServedModel::Kind::kEmbed || !m.tokenizer()) {  // token ids, or an error to report
    ticket.Run();
    return RunEmbedding(m, r, out);
  }
  auto& pending = m.pending_embeds();
  EmbedJob mine{&r, out, std::nullopt, false};
  {
    std::lock_guard lock(pending.mu);
    pending.jobs.push_back(&mine);
  }
  ticket.Run();  // the request before may have run this one with its own
  std::vector<EmbedJob*> batch;
  {
    std::lock_guard lock(pending.mu);
    if (mine.done) return mine.error;
    size_t texts = r.texts.size();  // this request's always run, however many
    for (auto it = pending.jobs.begin(); it != pending.jobs.end();) {
      EmbedJob* j = *it;
      const bool fits = j == &mine || (j->request->normalize == r.normalize && texts + j->request->texts.size() <= max_batch_texts);
      if (!fits) {
        ++it;
        continue;
      }
      if (j != &mine) texts += j->request->texts.size();
      batch.push_back(j);
      it = pending.jobs.erase(it);
    }
  }
  // Computed without the lock: requests keep joining the queue for the next batch meanwhile.
  RunEmbedJobs(m, batch);
  metrics.EmbedBatch(m.name(), batch.size());
  {
    std::lock_guard lock(pending.mu);
    for (EmbedJob* j : batch) j->done = true;
  }
  return mine.error;
}

}  // namespace accel::serve
