// accel embed: sentence embeddings from an encoder folder (its own tokenizer), and CLIP image /
// text embeddings. Prints one line per input, or JSON.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_flags.h"
#include "cli/load_progress.h"
#include "placement/admission.h"
#include "runtime/clip_pipeline.h"
#include "runtime/text_embedding.h"

namespace accel::cli {
namespace {

struct EmbedOptions {
  std::string model;
  std::vector<std::string> texts, images;
  std::string pooling;  // empty: from the folder (1_Pooling/config.json), else mean
  std::string device = "auto";
  std::string dtype = "f32";
  std::string memory_limit;
  bool no_normalize = false;
  bool json = false;
};

struct Embedded {
  std::string kind, input;
  std::vector<float> values;
};

Result<std::vector<Embedded>> Run(const EmbedOptions& o) {
  if (o.texts.empty() && o.images.empty()) return InvalidArgument("embed: give TEXT arguments and/or --image FILE");
  LoadOptions lo;
  lo.device = o.device;
  if (o.dtype == "bf16") lo.compute = DType::kBF16;
  else if (o.dtype != "f32") return InvalidArgument("--dtype must be f32 or bf16");
  const auto batch = static_cast<int64_t>(std::max(o.texts.size(), o.images.size()));
  ACCEL_RETURN_IF_ERROR(AdmitModel({o.model, o.memory_limit, batch, 0}));
  ACCEL_ASSIGN_OR_RETURN(auto model, LoadModelShowingProgress(o.model, lo));
  std::vector<Embedded> out;
  if (model->config().model_type() == "clip") {
    for (const auto& path : o.images) {
      ACCEL_ASSIGN_OR_RETURN(auto v, runtime::EmbedImage(*model, path));
      out.push_back({"image", path, std::move(v)});
    }
    for (const auto& text : o.texts) {
      ACCEL_ASSIGN_OR_RETURN(auto v, runtime::EmbedText(*model, text));
      out.push_back({"text", text, std::move(v)});
    }
    return out;
  }
  if (!o.images.empty()) return InvalidArgument("--image needs a CLIP model; " + model->config().model_type() + " embeds text");
  ACCEL_ASSIGN_OR_RETURN(auto tokenizer, Tokenizer::Load(model->dir()));
  TextEmbeddingOptions eo;
  eo.normalize = !o.no_normalize;
  if (o.pooling.empty()) {
    eo.pooling = PoolingForModelDir(model->dir());
  } else {
    ACCEL_ASSIGN_OR_RETURN(eo.pooling, ParsePooling(o.pooling));
  }
  ACCEL_ASSIGN_OR_RETURN(Tensor emb, EmbedTexts(*model, *tokenizer, o.texts, eo));
  const int64_t dim = emb.dim(1);
  for (size_t i = 0; i < o.texts.size(); ++i) {
    const float* row = emb.data<float>() + i * dim;
    out.push_back({"text", o.texts[i], std::vector<float>(row, row + dim)});
  }
  return out;
}

Action SetupEmbed(CLI::App& app) {
  auto o = std::make_shared<EmbedOptions>();
  app.add_option("--model,-m", o->model, "model folder or HF id in the local cache")->required();
  app.add_option("texts", o->texts, "texts to embed");
  app.add_option("--text", o->texts, "a text to embed (repeatable)");
  app.add_option("--image", o->images, "an image to embed with a CLIP model (repeatable)");
  app.add_option("--pooling", o->pooling, "cls or mean (default: the folder's 1_Pooling config, else mean)");
  app.add_flag("--no-normalize", o->no_normalize, "skip L2 normalisation");
  AddDeviceOption(app, o->device);
  app.add_option("--dtype", o->dtype, "linear-layer arithmetic: f32 or bf16");
  AddMemoryLimitOption(app, o->memory_limit);
  app.add_flag("--json", o->json, "print JSON");
  return [o] {
    auto result = Run(*o);
    if (!result.ok()) return ReportError(result.status());
    if (o->json) {
      nlohmann::json j = {{"model", o->model}, {"normalized", !o->no_normalize}, {"embeddings", nlohmann::json::array()}};
      for (const auto& e : *result) j["embeddings"].push_back({{"kind", e.kind}, {"input", e.input}, {"embedding", e.values}});
      std::cout << j.dump() << "\n";
      return kExitOk;
    }
    for (const auto& e : *result) {
      std::printf("%s [%zu]", e.input.c_str(), e.values.size());
      for (size_t i = 0; i < e.values.size() && i < 8; ++i) std::printf(" %.5f", e.values[i]);
      std::printf("%s\n", e.values.size() > 8 ? " ..." : "");
    }
    return kExitOk;
  };
}

}  // namespace
ACCEL_REGISTER_COMMAND("embed", "sentence embeddings (encoders) and CLIP image/text embeddings", SetupEmbed);
}  // namespace accel::cli
