#pragma once
// What the routes run on a served model, whatever the API: a generation request's prompt ids
// (templated, tokenized, checked against the context), the generation itself with streamed
// pieces and cancellation, and embeddings of texts or token ids.
#include <functional>
#include <string>
#include <vector>

#include "serve/metrics.h"
#include "serve/model_registry.h"
#include "serve/requests.h"

namespace accel::serve {

// An error to answer with: HTTP status, an OpenAI-style type/code, and a message.
struct ServeError {
  int status = 400;
  std::string type = "invalid_request_error";
  std::string code;
  std::string message;
};

struct PreparedPrompt {
  std::vector<int64_t> ids;
  int64_t max_new_tokens = 0;
};

// Server-wide limits on generation.
struct GenerationLimits {
  int64_t max_tokens = 4096;  // cap on max_tokens per request
};

// Renders the chat template / tokenizes / validates ids; checks the prompt fits the context.
std::optional<ServeError> PreparePrompt(ServedModel& m, const GenRequest& r, const GenerationLimits& limits, PreparedPrompt* out);

struct GenOutcome {
  std::vector<int64_t> tokens;
  std::string text;
  std::string finish_reason;  // OpenAI's: "stop" or "length"
  bool stopped_by_string = false;  // "stop" because a stop string matched, not the end-of-sequence token
  int64_t prompt_tokens = 0, completion_tokens = 0;
  double queue_seconds = 0, ttft_seconds = 0;  // waiting for a batch slot; submission to first token
};

// Called with each new token and, when the model has a tokenizer, each piece of text that can be
// shown (possibly empty); returning false cancels the generation (client gone).
using PieceCallback = TextModel::PieceCallback;

// Joins the model's running batch and streams on the caller's thread until the sequence ends;
// the caller holds an admitted Ticket.
std::optional<ServeError> RunGeneration(ServedModel& m, const GenRequest& r, const PreparedPrompt& p,
                                        const PieceCallback& on_piece, GenOutcome* out);

struct EmbedOutcome {
  std::vector<std::vector<float>> vectors;
  int64_t prompt_tokens = 0;
  std::vector<int64_t> input_tokens;  // per input (text inputs), summing to prompt_tokens
};
// Runs on the caller's thread; the caller holds the model (Ticket::Run).
std::optional<ServeError> RunEmbedding(ServedModel& m, const EmbedRequest& r, EmbedOutcome* out);

// Dynamic batching: takes the model through `ticket` (admitted, not yet run) and embeds `r`.
// Text requests that wait for the same model meanwhile run together: whichever gets the model
// embeds every waiting request's texts (same normalization, up to max_batch_texts) in one
// forward and hands each its rows; the others find their work done when their turn comes. A
// batch that fails is retried one request at a time, so one bad input fails only its request.
// Counted in `metrics` as batches and batched requests.
std::optional<ServeError> RunEmbeddingBatched(ServedModel& m, ServedModel::Ticket& ticket, const EmbedRequest& r, size_t max_batch_texts,
                                              Metrics& metrics, EmbedOutcome* out);

}  // namespace accel::serve
