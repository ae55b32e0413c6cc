// accel classify-image: zero-shot image classification with a CLIP model folder.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_flags.h"
#include "cli/load_progress.h"
#include "runtime/clip_pipeline.h"

namespace accel::cli {
namespace {
struct ClassifyArgs {
  std::string model, image, labels, prompt = "a photo of a {}.";
  bool json = false;
  std::string device = "auto";
};

Action SetupClassifyImage(CLI::App& app) {
  auto a = std::make_shared<ClassifyArgs>();
  AddModelOption(app, a->model, "CLIP model folder or HF id in the local cache")->required();
  app.add_option("image", a->image, "image file (PNG or JPEG)")->required();
  app.add_option("--labels", a->labels, "comma-separated candidate labels")->required();
  app.add_option("--prompt", a->prompt, "prompt template; {} is replaced by each label");
  app.add_flag("--json", a->json, "print JSON");
  AddDeviceOption(app, a->device);
  return [a] {
    std::vector<std::string> labels;
    std::stringstream ss(a->labels);
    for (std::string l; std::getline(ss, l, ',');) {
      if (!l.empty()) labels.push_back(l);
    }
    if (labels.empty()) return ReportError(InvalidArgument("--labels: give at least one label"));
    Status kind = ExpectFileKind(a->image, {"a PNG image", "a JPEG image"}, "an image (PNG or JPEG)");
    if (!kind.ok()) return ReportError(kind);
    LoadOptions lo;
    lo.device = a->device;
    auto model = LoadModelShowingProgress(a->model, lo);
    if (!model.ok()) return ReportError(model.status());
    auto scores = runtime::ClassifyImageZeroShot(**model, a->image, labels, a->prompt);
    if (!scores.ok()) return ReportError(scores.status());
    std::sort(scores->begin(), scores->end(), [](const auto& x, const auto& y) { return x.probability > y.probability; });
    if (a->json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& s : *scores) j.push_back({{"label", s.label}, {"score", s.probability}, {"logit", s.logit}});
      std::printf("%s\n", j.dump().c_str());
    } else {
      for (const auto& s : *scores) std::printf("%-24s %.4f\n", s.label.c_str(), s.probability);
    }
    return kExitOk;
  };
}
}  // namespace
ACCEL_REGISTER_COMMAND("classify-image", "zero-shot image classification with a CLIP model", SetupClassifyImage);
}  // namespace accel::cli
