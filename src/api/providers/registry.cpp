// Name -> provider. OpenAI-compatible services are the same class with their own defaults.
#include "api/providers/openai_compatible.h"
#include "api/providers/provider.h"

namespace accel::api {

std::unique_ptr<Provider> MakeClaudeProvider();
std::unique_ptr<Provider> MakeGeminiProvider();
std::unique_ptr<Provider> MakeOllamaProvider();
std::unique_ptr<Provider> MakeTgiProvider();
std::unique_ptr<Provider> MakeTeiProvider();
std::unique_ptr<Provider> MakeOvmsProvider();

std::vector<std::string> ProviderNames() {
  return {"claude", "gemini", "groq", "ollama", "openai", "opea", "ovms", "tei", "tgi", "vllm"};
}

std::unique_ptr<Provider> MakeProvider(std::string_view name) {
  if (name == "openai")
    return std::make_unique<OpenAICompatibleProvider>(ProviderInfo{"openai", "https://api.openai.com/v1", "OPENAI_API_KEY"});
  if (name == "groq")
    return std::make_unique<OpenAICompatibleProvider>(ProviderInfo{"groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY"});
  if (name == "vllm")
    return std::make_unique<OpenAICompatibleProvider>(ProviderInfo{"vllm", "http://localhost:8000/v1", "VLLM_API_KEY"});
  // OPEA's LLM (textgen) and embedding microservices speak the OpenAI routes under /v1.
  if (name == "opea")
    return std::make_unique<OpenAICompatibleProvider>(ProviderInfo{"opea", "http://localhost:9000", ""}, "/v1");
  if (name == "claude" || name == "anthropic") return MakeClaudeProvider();
  if (name == "gemini") return MakeGeminiProvider();
  if (name == "ollama") return MakeOllamaProvider();
  if (name == "tgi") return MakeTgiProvider();
  if (name == "tei") return MakeTeiProvider();
  if (name == "ovms") return MakeOvmsProvider();
  return nullptr;
}

}  // namespace accel::api
