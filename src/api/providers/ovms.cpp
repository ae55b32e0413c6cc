// OpenVINO Model Server: KServe v2 REST (/v2/models/{name}/infer, tensors as JSON) and its
// OpenAI-compatible route under /v3 (chat/completions, embeddings).
#include "api/providers/json_util.h"
#include "api/providers/openai_compatible.h"

namespace accel::api {
namespace {

class OvmsProvider : public OpenAICompatibleProvider {
 public:
  OvmsProvider() : OpenAICompatibleProvider({"ovms", "http://localhost:8000", "", AuthStyle::kBearer}, "/v3") {}

  ApiResult<HttpRequest> BuildInfer(const KServeInferRequest& req, const Target& t) const override {
    if (req.model.empty() || req.inputs.empty())
      return MakeError(ErrorClass::kBadRequest, "ovms: infer needs a model and at least one input tensor");
    Json inputs = Json::array();
    for (const KServeTensor& in : req.inputs) {
      int64_t n = 1;
      for (int64_t d : in.shape) {
        if (d < 0) return MakeError(ErrorClass::kBadRequest, "ovms: negative dimension in input '" + in.name + "'");
        n *= d;
      }
      if (n != static_cast<int64_t>(in.data.size()))
        return MakeError(ErrorClass::kBadRequest, "ovms: input '" + in.name + "' has " + std::to_string(in.data.size()) +
                                                      " values for shape of " + std::to_string(n));
      inputs.push_back({{"name", in.name}, {"shape", in.shape}, {"datatype", in.datatype}, {"data", in.data}});
    }
    return JsonPost(t, "/v2/models/" + req.model + "/infer", Json{{"inputs", inputs}}.dump());
  }

  ApiResult<KServeInferResponse> ParseInfer(const KServeInferRequest& req, const HttpResponse& r) const override {
    auto parsed = ParseJsonBody("ovms", r.body);
    if (!parsed.ok()) return parsed.error();
    const Json& j = parsed.value();
    return GuardedParse("ovms", [&]() -> ApiResult<KServeInferResponse> {
      KServeInferResponse out;
      out.model = StringOr(j, "model_name", req.model);
      for (const Json& o : j.at("outputs")) {
        KServeTensor t;
        t.name = o.at("name").get<std::string>();
        t.shape = o.at("shape").get<std::vector<int64_t>>();
        t.datatype = StringOr(o, "datatype", "FP32");
        int64_t n = 1;
        for (int64_t d : t.shape) {
          if (d < 0 || (d > 0 && n > (int64_t{1} << 40) / d)) throw std::runtime_error("bad output shape");
          n *= d;
        }
        for (const Json& v : o.at("data")) {
          if (!v.is_number()) throw std::runtime_error("non-numeric output value");
          t.data.push_back(v.get<double>());
        }
        if (static_cast<int64_t>(t.data.size()) != n) throw std::runtime_error("output '" + t.name + "' size differs from its shape");
        out.outputs.push_back(std::move(t));
      }
      return out;
    });
  }
};

}  // namespace

std::unique_ptr<Provider> MakeOvmsProvider() { return std::make_unique<OvmsProvider>(); }

}  // namespace accel::api
