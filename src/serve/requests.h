#pragma once
// Request bodies of the served APIs (OpenAI, Ollama, TEI, TGI) parsed into one internal form, with
// every type checked: a body that does not parse, or a field of the wrong type or range, gives a
// ParseError (HTTP status + message) that the route writes in its API's error format. No
// exceptions escape these functions (fuzz/fuzz_serve_requests.cpp).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "text/chat_template.h"

namespace accel::serve {

struct ParseError {
  int status = 400;
  std::string message;
  std::string param;  // the offending field, when one is to blame
};

template <typename T>
struct Parsed {
  T value;
  std::optional<ParseError> error;
  bool ok() const { return !error.has_value(); }
};

// A generation request: chat messages (rendered with the model's chat template) or a prompt
// (text or token ids, used as given).
struct GenRequest {
  std::string model;
  bool chat = false;
  std::vector<text::ChatMessage> messages;
  std::string prompt;
  std::vector<int64_t> prompt_ids;  // set when the prompt came as token ids
  bool prompt_is_ids = false;
  int64_t max_tokens = -1;  // -1: up to the context (capped by the server's limit)
  float temperature = 1.0f, top_p = 1.0f, min_p = 0.0f, presence_penalty = 0.0f, frequency_penalty = 0.0f;
  float repetition_penalty = 1.0f;
  int64_t top_k = 0;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  bool stream = false;
  bool ignore_eos = false;  // vLLM / llama-server extension: run to max_tokens past end-of-sequence
  bool include_usage = false;  // OpenAI stream_options.include_usage
  bool details = false;        // TGI parameters.details: finish reason and tokens in the answer
  bool return_full_text = false;  // TGI: the answer starts with the prompt
};

struct EmbedRequest {
  std::string model;
  std::vector<std::string> texts;               // text inputs, or
  std::vector<std::vector<int64_t>> token_ids;  // token-id inputs (OpenAI only)
  bool base64 = false;                          // OpenAI encoding_format "base64"
  bool normalize = true;
};

Parsed<GenRequest> ParseOpenAiChat(const std::string& body);
Parsed<GenRequest> ParseOpenAiCompletion(const std::string& body);
Parsed<EmbedRequest> ParseOpenAiEmbedding(const std::string& body);
Parsed<GenRequest> ParseOllamaChat(const std::string& body);
Parsed<GenRequest> ParseOllamaGenerate(const std::string& body);
Parsed<EmbedRequest> ParseOllamaEmbed(const std::string& body);
Parsed<EmbedRequest> ParseTeiEmbed(const std::string& body);
// TGI's {"inputs": "...", "parameters": {...}, "stream": bool} (/generate, /generate_stream, /).
Parsed<GenRequest> ParseTgiGenerate(const std::string& body);

// Little-endian f32 bytes in base64, as OpenAI's encoding_format "base64" sends them.
std::string Base64Floats(const std::vector<float>& values);

}  // namespace accel::serve
