#include "api/providers/openai_format.h"

namespace accel::api::openai_format {

std::string ChatBody(const ChatRequest& req, bool stream) {
  Json body;
  body["model"] = req.model;
  Json msgs = Json::array();
  for (const Message& m : req.messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
  body["messages"] = std::move(msgs);
  if (req.max_tokens) body["max_tokens"] = *req.max_tokens;
  if (req.temperature) body["temperature"] = *req.temperature;
  if (req.top_p) body["top_p"] = *req.top_p;
  if (!req.stop.empty()) body["stop"] = req.stop;
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};  // usage arrives on a final chunk
  }
  return body.dump();
}

static Usage UsageOf(const Json& j) {
  Usage u;
  auto it = j.find("usage");
  if (it != j.end() && it->is_object()) {
    u.prompt_tokens = IntOr(*it, "prompt_tokens");
    u.completion_tokens = IntOr(*it, "completion_tokens");
  }
  return u;
}

ApiResult<ChatResponse> ParseChat(std::string_view provider, const HttpResponse& r) {
  auto parsed = ParseJsonBody(provider, r.body);
  if (!parsed.ok()) return parsed.error();
  const Json& j = parsed.value();
  return GuardedParse(provider, [&]() -> ApiResult<ChatResponse> {
    ChatResponse out;
    out.id = StringOr(j, "id");
    out.model = StringOr(j, "model");
    const Json& choice = j.at("choices").at(0);
    const Json& msg = choice.at("message");
    if (msg.contains("content") && msg["content"].is_string()) out.text = msg["content"].get<std::string>();
    out.finish_reason = StringOr(choice, "finish_reason");
    out.usage = UsageOf(j);
    return out;
  });
}

ApiResult<StreamStep> ParseStreamEvent(std::string_view provider, std::string_view data) {
  StreamStep step;
  if (data == "[DONE]") {
    step.kind = StreamStep::kDone;
    return step;
  }
  auto parsed = ParseJsonBody(provider, data);
  if (!parsed.ok()) return parsed.error();
  const Json& j = parsed.value();
  return GuardedParse(provider, [&]() -> ApiResult<StreamStep> {
    if (j.contains("error")) {
      return MakeError(ErrorClass::kServer, std::string(provider) + " stream error: " + j["error"].dump());
    }
    step.kind = StreamStep::kChunk;
    auto choices = j.find("choices");
    if (choices != j.end() && choices->is_array() && !choices->empty()) {
      const Json& c = choices->at(0);
      auto delta = c.find("delta");
      if (delta != c.end() && delta->is_object()) step.chunk.text = StringOr(*delta, "content");
      step.chunk.finish_reason = StringOr(c, "finish_reason");
    }
    if (j.contains("usage") && j["usage"].is_object()) step.chunk.usage = UsageOf(j);
    return step;
  });
}

std::string EmbedBody(const EmbedRequest& req) {
  Json body;
  body["model"] = req.model;
  body["input"] = req.inputs;
  return body.dump();
}

ApiResult<EmbedResponse> ParseEmbed(std::string_view provider, const EmbedRequest& req, const HttpResponse& r) {
  auto parsed = ParseJsonBody(provider, r.body);
  if (!parsed.ok()) return parsed.error();
  const Json& j = parsed.value();
  return GuardedParse(provider, [&]() -> ApiResult<EmbedResponse> {
    EmbedResponse out;
    out.model = StringOr(j, "model", req.model);
    if (j.contains("data")) {
      const Json& data = j.at("data");
      out.embeddings.resize(data.size());
      if (data.size() != req.inputs.size())
        throw std::runtime_error("got " + std::to_string(data.size()) + " embeddings for " +
                                 std::to_string(req.inputs.size()) + " inputs");
      std::vector<bool> seen(data.size(), false);
      for (size_t i = 0; i < data.size(); ++i) {
        const Json& item = data.at(i);
        size_t index = item.contains("index") ? item.at("index").get<size_t>() : i;
        if (index >= data.size() || seen[index]) throw std::runtime_error("bad or repeated embedding index");
        seen[index] = true;
        out.embeddings[index] = FloatVector(item.at("embedding"));
      }
      auto u = j.find("usage");
      if (u != j.end() && u->is_object()) out.usage.prompt_tokens = IntOr(*u, "prompt_tokens");
    } else {
      // Older OPEA embedding microservice: {"text": ..., "embedding": [...]} for one input.
      if (req.inputs.size() != 1) throw std::runtime_error("single-embedding answer for several inputs");
      out.embeddings.push_back(FloatVector(j.at("embedding")));
    }
    return out;
  });
}

}  // namespace accel::api::openai_format
