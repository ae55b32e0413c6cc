// accel detect: object detection with a DETR model folder (boxes in the image's pixels).
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_flags.h"
#include "cli/load_progress.h"
#include "runtime/detection_pipeline.h"

namespace accel::cli {
namespace {
struct DetectArgs {
  std::string model, image;
  float threshold = 0.5f;
  bool json = false;
  std::string device = "auto";
};

Action SetupDetect(CLI::App& app) {
  auto a = std::make_shared<DetectArgs>();
  AddModelOption(app, a->model, "DETR model folder (with preprocessor_config.json) or HF id in the local cache")->required();
  app.add_option("image", a->image, "image file (PNG or JPEG)")->required();
  app.add_option("--threshold", a->threshold, "keep detections whose score is above this")
      ->check(CLI::Range(0.0f, 1.0f))
      ->capture_default_str();
  app.add_flag("--json", a->json, "print JSON: [{score, label, label_id, box: {xmin, ymin, xmax, ymax}}]");
  AddDeviceOption(app, a->device);
  return [a] {
    Status kind = ExpectFileKind(a->image, {"a PNG image", "a JPEG image"}, "an image (PNG or JPEG)");
    if (!kind.ok()) return ReportError(kind);
    LoadOptions lo;
    lo.device = a->device;
    auto model = LoadModelShowingProgress(a->model, lo);
    if (!model.ok()) return ReportError(model.status());
    auto found = runtime::DetectObjects(**model, a->image, a->threshold);
    if (!found.ok()) return ReportError(found.status());
    if (a->json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& d : *found) {
        j.push_back({{"score", d.score},
                     {"label", d.label},
                     {"label_id", d.label_id},
                     {"box", {{"xmin", d.xmin}, {"ymin", d.ymin}, {"xmax", d.xmax}, {"ymax", d.ymax}}}});
      }
      std::printf("%s\n", j.dump().c_str());
    } else {
      for (const auto& d : *found) {
        std::printf("%-24s %.4f  [%.1f, %.1f, %.1f, %.1f]\n", d.label.c_str(), d.score, d.xmin, d.ymin, d.xmax, d.ymax);
      }
    }
    return kExitOk;
  };
}
}  // namespace
ACCEL_REGISTER_COMMAND("detect", "object detection with a DETR model: labels, scores and boxes", SetupDetect);
}  // namespace accel::cli
