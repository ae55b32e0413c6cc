#pragma once
// One request/response model shared by every remote provider. Providers translate these to
// and from their wire formats; the client core (queue, retries, breaker, stats) only ever
// sees these types, so adding a provider never touches the resilience code.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace accel::api {

struct Message {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

struct ChatRequest {
  std::string model;
  std::vector<Message> messages;
  std::optional<int> max_tokens;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::vector<std::string> stop;
  // Use the provider's plain-completion route (Ollama /api/generate, TGI /generate) with the
  // messages' text as the prompt, where the provider has one.
  bool raw_completion = false;
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

struct ChatResponse {
  std::string id;  // the provider's id when it sends one
  std::string model;
  std::string text;
  std::string finish_reason;
  Usage usage;
};

// One piece of a streamed answer; usage/finish_reason arrive on the chunks that carry them.
struct ChatChunk {
  std::string text;
  std::string finish_reason;
  std::optional<Usage> usage;
};

struct EmbedRequest {
  std::string model;
  std::vector<std::string> inputs;
  bool normalize = true;  // providers that take the flag (TEI)
};

struct EmbedResponse {
  std::string model;
  std::vector<std::vector<float>> embeddings;  // one per input, in input order
  Usage usage;
};

struct RerankRequest {
  std::string model;
  std::string query;
  std::vector<std::string> texts;
};

struct RerankResult {
  size_t index = 0;
  double score = 0;
};

struct RerankResponse {
  std::vector<RerankResult> results;  // as the server ordered them (best first for TEI)
};

// KServe v2 tensor (OpenVINO Model Server): numbers travel as doubles in JSON.
struct KServeTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::string datatype = "FP32";
  std::vector<double> data;
};

struct KServeInferRequest {
  std::string model;
  std::vector<KServeTensor> inputs;
};

struct KServeInferResponse {
  std::string model;
  std::vector<KServeTensor> outputs;
};

enum class Priority { kHigh = 0, kNormal = 1, kLow = 2 };
const char* PriorityName(Priority p);

}  // namespace accel::api
