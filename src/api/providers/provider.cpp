#include "api/providers/provider.h"

#include "api/wire/http_error.h"

namespace accel::api {

ApiError Provider::Unsupported(const char* what) const {
  return MakeError(ErrorClass::kBadRequest, info().name + " does not support " + what);
}

ApiResult<HttpRequest> Provider::BuildEmbed(const EmbedRequest&, const Target&) const { return Unsupported("embeddings"); }
ApiResult<EmbedResponse> Provider::ParseEmbed(const EmbedRequest&, const HttpResponse&) const { return Unsupported("embeddings"); }
ApiResult<HttpRequest> Provider::BuildRerank(const RerankRequest&, const Target&) const { return Unsupported("rerank"); }
ApiResult<RerankResponse> Provider::ParseRerank(const RerankRequest&, const HttpResponse&) const { return Unsupported("rerank"); }
ApiResult<HttpRequest> Provider::BuildInfer(const KServeInferRequest&, const Target&) const { return Unsupported("KServe infer"); }
ApiResult<KServeInferResponse> Provider::ParseInfer(const KServeInferRequest&, const HttpResponse&) const {
  return Unsupported("KServe infer");
}

ApiError Provider::ClassifyError(const HttpResponse& r) const { return ClassifyHttpError(r); }

HttpRequest Provider::JsonPost(const Target& t, const std::string& path, const std::string& body) const {
  HttpRequest req;
  req.method = "POST";
  req.url = t.base_url + path;
  req.body = body;
  req.headers.emplace_back("Content-Type", "application/json");
  if (!t.api_key.empty()) {
    switch (info().auth) {
      case AuthStyle::kBearer: req.headers.emplace_back("Authorization", "Bearer " + t.api_key); break;
      case AuthStyle::kXApiKey: req.headers.emplace_back("x-api-key", t.api_key); break;
      case AuthStyle::kGoogApiKey: req.headers.emplace_back("x-goog-api-key", t.api_key); break;
      case AuthStyle::kNone: break;
    }
  }
  return req;
}

}  // namespace accel::api
