#include "serve/requests.h"

#include <cmath>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

namespace accel::serve {
namespace {

using json = nlohmann::json;

// Thrown inside this file only, caught at each Parse* entry point.
struct Bad {
  std::string message, param;
};

[[noreturn]] void Fail(const std::string& param, const std::string& why) { throw Bad{param + ": " + why, param}; }

json ParseObject(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Bad{"request body is not valid JSON", ""};
  if (!j.is_object()) throw Bad{"request body must be a JSON object", ""};
  return j;
}

const json* Field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string String(const json& j, const char* name, bool required) {
  const json* f = Field(j, name);
  if (!f) {
    if (required) Fail(name, "is required");
    return {};
  }
  if (!f->is_string()) Fail(name, "must be a string");
  return f->get<std::string>();
}

bool Bool(const json& j, const char* name, bool fallback) {
  const json* f = Field(j, name);
  if (!f) return fallback;
  if (!f->is_boolean()) Fail(name, "must be a boolean");
  return f->get<bool>();
}

double Number(const json& j, const char* name, double fallback, double lo, double hi) {
  const json* f = Field(j, name);
  if (!f) return fallback;
  if (!f->is_number()) Fail(name, "must be a number");
  double v = f->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) Fail(name, "is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

int64_t Integer(const json& j, const char* name, int64_t fallback, int64_t lo, int64_t hi) {
  const json* f = Field(j, name);
  if (!f) return fallback;
  if (!f->is_number_integer()) Fail(name, "must be an integer");
  int64_t v = f->is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(f->get<uint64_t>(), std::numeric_limits<int64_t>::max()))
                                      : f->get<int64_t>();
  if (v < lo || v > hi) Fail(name, "is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

std::vector<int64_t> TokenIds(const json& a, const char* param) {
  std::vector<int64_t> ids;
  for (const auto& t : a) {
    if (!t.is_number_integer() || (t.is_number_integer() && !t.is_number_unsigned() && t.get<int64_t>() < 0))
      Fail(param, "token ids must be non-negative integers");
    ids.push_back(t.is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(t.get<uint64_t>(), std::numeric_limits<int64_t>::max()))
                                         : t.get<int64_t>());
  }
  return ids;
}

std::vector<std::string> Stop(const json& j, const char* name) {
  const json* f = Field(j, name);
  if (!f) return {};
  if (f->is_string()) return {f->get<std::string>()};
  if (!f->is_array()) Fail(name, "must be a string or an array of strings");
  std::vector<std::string> out;
  for (const auto& s : *f) {
    if (!s.is_string()) Fail(name, "must be a string or an array of strings");
    if (!s.get_ref<const std::string&>().empty()) out.push_back(s.get<std::string>());
  }
  if (out.size() > 16) Fail(name, "at most 16 stop strings");
  return out;
}

std::optional<uint64_t> Seed(const json& j, const char* name) {
  const json* f = Field(j, name);
  if (!f) return std::nullopt;
  if (!f->is_number_integer()) Fail(name, "must be an integer");
  return f->is_number_unsigned() ? f->get<uint64_t>() : static_cast<uint64_t>(f->get<int64_t>());
}

// OpenAI sampling fields shared by chat and completions.
void OpenAiSampling(const json& j, GenRequest& r) {
  r.model = String(j, "model", true);
  r.stream = Bool(j, "stream", false);
  if (const json* so = Field(j, "stream_options")) {
    if (!so->is_object()) Fail("stream_options", "must be an object");
    r.include_usage = Bool(*so, "include_usage", false);
  }
  r.temperature = static_cast<float>(Number(j, "temperature", 1.0, 0.0, 2.0));
  r.top_p = static_cast<float>(Number(j, "top_p", 1.0, 0.0, 1.0));
  if (r.top_p <= 0.0f) Fail("top_p", "must be > 0");
  r.min_p = static_cast<float>(Number(j, "min_p", 0.0, 0.0, 1.0));
  r.top_k = Integer(j, "top_k", 0, 0, 1 << 20);
  r.presence_penalty = static_cast<float>(Number(j, "presence_penalty", 0.0, -2.0, 2.0));
  r.frequency_penalty = static_cast<float>(Number(j, "frequency_penalty", 0.0, -2.0, 2.0));
  r.seed = Seed(j, "seed");
  r.stop = Stop(j, "stop");
  r.ignore_eos = Bool(j, "ignore_eos", false);
  r.max_tokens = Integer(j, "max_tokens", -1, 0, std::numeric_limits<int32_t>::max());
  if (Field(j, "max_completion_tokens")) r.max_tokens = Integer(j, "max_completion_tokens", -1, 0, std::numeric_limits<int32_t>::max());
  if (Integer(j, "n", 1, 1, 1) != 1) Fail("n", "only n = 1 is supported");
}

std::string MessageContent(const json& m) {
  const json* c = Field(m, "content");
  if (!c) return {};
  if (c->is_string()) return c->get<std::string>();
  if (!c->is_array()) Fail("messages", "content must be a string or an array of text parts");
  std::string text;  // OpenAI content parts: only "text" parts are usable by a text model
  for (const auto& part : *c) {
    if (!part.is_object()) Fail("messages", "content parts must be objects");
    std::string type = String(part, "type", true);
    if (type != "text") Fail("messages", "content part type '" + type + "' is not supported (text only)");
    text += String(part, "text", true);
  }
  return text;
}

std::vector<text::ChatMessage> Messages(const json& j) {
  const json* f = Field(j, "messages");
  if (!f) Fail("messages", "is required");
  if (!f->is_array() || f->empty()) Fail("messages", "must be a non-empty array");
  std::vector<text::ChatMessage> out;
  for (const auto& m : *f) {
    if (!m.is_object()) Fail("messages", "each message must be an object");
    std::string role = String(m, "role", true);
    out.push_back({role, MessageContent(m)});
  }
  return out;
}

template <typename T, typename F>
Parsed<T> Guard(const std::string& body, F fill) {
  Parsed<T> p;
  try {
    fill(ParseObject(body), p.value);
  } catch (const Bad& b) {
    p.error = ParseError{400, b.message, b.param};
  } catch (const std::exception& e) {  // nlohmann type errors the checks above missed
    p.error = ParseError{400, std::string("invalid request: ") + e.what(), ""};
  }
  return p;
}

// Ollama "options": {temperature, top_p, top_k, min_p, seed, num_predict, stop, repeat_penalty, ...}
void OllamaOptions(const json& j, GenRequest& r) {
  r.model = String(j, "model", true);
  r.stream = Bool(j, "stream", true);  // Ollama streams unless told not to
  r.temperature = 0.8f;                // Ollama's default
  const json* o = Field(j, "options");
  if (!o) return;
  if (!o->is_object()) Fail("options", "must be an object");
  r.temperature = static_cast<float>(Number(*o, "temperature", 0.8, 0.0, 2.0));
  r.top_p = static_cast<float>(Number(*o, "top_p", 1.0, 0.0, 1.0));
  if (r.top_p <= 0.0f) Fail("top_p", "must be > 0");
  r.top_k = Integer(*o, "top_k", 0, 0, 1 << 20);
  r.min_p = static_cast<float>(Number(*o, "min_p", 0.0, 0.0, 1.0));
  r.repetition_penalty = static_cast<float>(Number(*o, "repeat_penalty", 1.0, 0.0, 10.0));
  if (r.repetition_penalty <= 0.0f) Fail("repeat_penalty", "must be > 0");
  r.presence_penalty = static_cast<float>(Number(*o, "presence_penalty", 0.0, -2.0, 2.0));
  r.frequency_penalty = static_cast<float>(Number(*o, "frequency_penalty", 0.0, -2.0, 2.0));
  r.seed = Seed(*o, "seed");
  r.stop = Stop(*o, "stop");
  int64_t n = Integer(*o, "num_predict", -1, -2, std::numeric_limits<int32_t>::max());
  r.max_tokens = n < 0 ? -1 : n;
}

std::vector<std::string> TextInputs(const json& j, const char* name) {
  const json* f = Field(j, name);
  if (!f) Fail(name, "is required");
  std::vector<std::string> out;
  if (f->is_string()) {
    out.push_back(f->get<std::string>());
  } else if (f->is_array() && !f->empty()) {
    for (const auto& s : *f) {
      if (!s.is_string()) Fail(name, "must be a string or an array of strings");
      out.push_back(s.get<std::string>());
    }
  } else {
    Fail(name, "must be a string or a non-empty array of strings");
  }
  return out;
}

constexpr size_t kMaxInputs = 2048;

}  // namespace

Parsed<GenRequest> ParseOpenAiChat(const std::string& body) {
  return Guard<GenRequest>(body, [](const json& j, GenRequest& r) {
    OpenAiSampling(j, r);
    r.chat = true;
    r.messages = Messages(j);
  });
}

Parsed<GenRequest> ParseOpenAiCompletion(const std::string& body) {
  return Guard<GenRequest>(body, [](const json& j, GenRequest& r) {
    OpenAiSampling(j, r);
    const json* p = Field(j, "prompt");
    if (!p) Fail("prompt", "is required");
    if (p->is_string()) {
      r.prompt = p->get<std::string>();
    } else if (p->is_array() && !p->empty() && p->at(0).is_number()) {
      r.prompt_ids = TokenIds(*p, "prompt");
      r.prompt_is_ids = true;
    } else if (p->is_array() && p->size() == 1 && p->at(0).is_string()) {
      r.prompt = p->at(0).get<std::string>();
    } else if (p->is_array() && p->size() == 1 && p->at(0).is_array() && !p->at(0).empty()) {
      r.prompt_ids = TokenIds(p->at(0), "prompt");
      r.prompt_is_ids = true;
    } else {
      Fail("prompt", "must be a string, an array of token ids, or a one-element array of either (batches are not supported)");
    }
    if (r.prompt_is_ids ? r.prompt_ids.empty() : r.prompt.empty()) Fail("prompt", "is empty");
    // "echo", "logprobs", "best_of", "suffix": not supported; refuse rather than ignore.
    if (Bool(j, "echo", false)) Fail("echo", "is not supported");
    if (Field(j, "logprobs")) Fail("logprobs", "is not supported");
    if (Integer(j, "best_of", 1, 1, 1) != 1) Fail("best_of", "is not supported");
  });
}

Parsed<EmbedRequest> ParseOpenAiEmbedding(const std::string& body) {
  return Guard<EmbedRequest>(body, [](const json& j, EmbedRequest& r) {
    r.model = String(j, "model", true);
    std::string format = String(j, "encoding_format", false);
    if (format == "base64") r.base64 = true;
    else if (!format.empty() && format != "float") Fail("encoding_format", "must be float or base64");
    if (Field(j, "dimensions")) Fail("dimensions", "is not supported");
    const json* in = Field(j, "input");
    if (!in) Fail("input", "is required");
    if (in->is_string()) {
      r.texts.push_back(in->get<std::string>());
    } else if (in->is_array() && !in->empty()) {
      const json& first = in->at(0);
      if (first.is_string()) {
        r.texts = TextInputs(j, "input");
      } else if (first.is_number()) {
        r.token_ids.push_back(TokenIds(*in, "input"));
      } else if (first.is_array()) {
        for (const auto& row : *in) {
          if (!row.is_array() || row.empty()) Fail("input", "token-id inputs must be non-empty arrays of integers");
          r.token_ids.push_back(TokenIds(row, "input"));
        }
      } else {
        Fail("input", "must be a string, an array of strings, an array of token ids, or an array of such arrays");
      }
    } else {
      Fail("input", "must be a string or a non-empty array");
    }
    if (r.texts.size() + r.token_ids.size() > kMaxInputs) Fail("input", "at most 2048 inputs per request");
  });
}

Parsed<GenRequest> ParseOllamaChat(const std::string& body) {
  return Guard<GenRequest>(body, [](const json& j, GenRequest& r) {
    OllamaOptions(j, r);
    r.chat = true;
    r.messages = Messages(j);
  });
}

Parsed<GenRequest> ParseOllamaGenerate(const std::string& body) {
  return Guard<GenRequest>(body, [](const json& j, GenRequest& r) {
    OllamaOptions(j, r);
    r.prompt = String(j, "prompt", false);
    std::string system = String(j, "system", false);
    const bool raw = Bool(j, "raw", false);
    // Not raw: the prompt goes through the model's chat template, as Ollama does.
    if (!raw) {
      r.chat = true;
      if (!system.empty()) r.messages.push_back({"system", system});
      r.messages.push_back({"user", r.prompt});
    }
    if (r.prompt.empty()) Fail("prompt", "is required (an empty prompt only loads the model in Ollama; here models are loaded at start)");
  });
}

Parsed<EmbedRequest> ParseOllamaEmbed(const std::string& body) {
  return Guard<EmbedRequest>(body, [](const json& j, EmbedRequest& r) {
    r.model = String(j, "model", true);
    r.texts = TextInputs(j, "input");
    if (r.texts.size() > kMaxInputs) Fail("input", "at most 2048 inputs per request");
  });
}

Parsed<EmbedRequest> ParseTeiEmbed(const std::string& body) {
  return Guard<EmbedRequest>(body, [](const json& j, EmbedRequest& r) {
    r.model = String(j, "model", false);  // TEI serves one model; optional here
    r.texts = TextInputs(j, "inputs");
    r.normalize = Bool(j, "normalize", true);
    if (r.texts.size() > kMaxInputs) Fail("inputs", "at most 2048 inputs per request");
  });
}

Parsed<GenRequest> ParseTgiGenerate(const std::string& body) {
  return Guard<GenRequest>(body, [](const json& j, GenRequest& r) {
    r.model = String(j, "model", false);  // TGI serves one model; optional here
    r.prompt = String(j, "inputs", true);
    if (r.prompt.empty()) Fail("inputs", "is empty");
    r.stream = Bool(j, "stream", false);
    static const json kNoParameters = json::object();
    const json* p = Field(j, "parameters");
    if (p && !p->is_object()) Fail("parameters", "must be an object");
    const json& q = p ? *p : kNoParameters;
    r.max_tokens = Integer(q, "max_new_tokens", 100, 1, std::numeric_limits<int32_t>::max());
    r.temperature = static_cast<float>(Number(q, "temperature", 1.0, 0.0, 100.0));
    if (Field(q, "temperature") && r.temperature <= 0.0f) Fail("temperature", "must be > 0 (TGI's rule; leave it out for greedy)");
    r.top_p = static_cast<float>(Number(q, "top_p", 1.0, 0.0, 1.0));
    if (Field(q, "top_p") && (r.top_p <= 0.0f || r.top_p >= 1.0f)) Fail("top_p", "must be > 0 and < 1");
    r.top_k = Integer(q, "top_k", 0, 0, 1 << 20);
    if (Field(q, "top_k") && r.top_k == 0) Fail("top_k", "must be > 0");
    r.repetition_penalty = static_cast<float>(Number(q, "repetition_penalty", 1.0, 0.0, 100.0));
    if (r.repetition_penalty <= 0.0f) Fail("repetition_penalty", "must be > 0");
    r.frequency_penalty = static_cast<float>(Number(q, "frequency_penalty", 0.0, -2.0, 2.0));
    r.seed = Seed(q, "seed");
    r.stop = Stop(q, "stop");
    r.details = Bool(q, "details", false);
    r.return_full_text = Bool(q, "return_full_text", false);
    // TGI samples when asked to (do_sample) or when any sampling knob is set; else it is greedy.
    const bool sampling = Bool(q, "do_sample", false) || r.temperature != 1.0f || r.top_p < 1.0f || r.top_k > 0;
    if (!sampling) r.temperature = 0.0f;
    if (Integer(q, "best_of", 1, 1, 1) != 1) Fail("best_of", "is not supported");
    if (Field(q, "grammar")) Fail("grammar", "is not supported");
    if (Field(q, "top_n_tokens")) Fail("top_n_tokens", "is not supported");
    if (Bool(q, "decoder_input_details", false)) Fail("decoder_input_details", "is not supported");
  });
}

std::string Base64Floats(const std::vector<float>& values) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes(values.size() * 4, '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t u;
    std::memcpy(&u, &values[i], 4);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<char>((u >> (8 * b)) & 0xff);
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

}  // namespace accel::serve
