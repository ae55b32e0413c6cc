// Fuzzes the streamed-response path: SSE and NDJSON framing fed in arbitrary pieces, and
// every provider's stream-event and whole-body parsers. Any input must give a value or a
// classified error: no crash, no unbounded growth.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/providers/provider.h"
#include "api/wire/http_error.h"
#include "api/wire/stream_parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace accel::api;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  static const auto providers = [] {
    std::vector<std::unique_ptr<Provider>> v;
    for (const auto& n : ProviderNames()) v.push_back(MakeProvider(n));
    return v;
  }();
  size_t split = size ? data[0] % (size + 1) : 0;
  ChatRequest req{"m", {{"user", "x"}}};
  req.raw_completion = size > 1 && (data[1] & 1);
  SseParser sse(1 << 16);
  for (std::string_view piece : {in.substr(0, split), in.substr(split)}) {
    (void)sse.Feed(piece, [&](const SseEvent& e) {
      for (const auto& p : providers) (void)p->ParseStreamEvent(req, e.event, e.data);
      return true;
    });
  }
  NdjsonSplitter nd(1 << 16);
  (void)nd.Feed(in, [&](std::string_view line) {
    (void)providers[3]->ParseStreamEvent(req, "", line);  // ollama
    return true;
  });
  HttpResponse r;
  r.status = size ? 200 + data[0] % 400 : 200;
  r.body.assign(in);
  r.headers["retry-after"] = std::string(in.substr(0, 40));
  r.headers["x-ratelimit-reset-requests"] = std::string(in.substr(0, 20));
  (void)ClassifyHttpError(r);
  EmbedRequest er{"m", {"a", "b"}};
  KServeInferRequest kr{"m", {}};
  RerankRequest rr{"m", "q", {"a", "b"}};
  for (const auto& p : providers) {
    (void)p->ParseChat(req, r);
    (void)p->ParseEmbed(er, r);
    (void)p->ParseRerank(rr, r);
    (void)p->ParseInfer(kr, r);
  }
  return 0;
}
