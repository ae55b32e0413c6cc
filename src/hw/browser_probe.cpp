// Browser targets (WebGPU, WebNN) and Apple's MPS: detected as "could this machine host it".
#include <unistd.h>

#include "hw/backend_probes.h"

namespace accel::hw {

BackendReport ProbeBrowser(const HwSources& sources, const char* api) {
  BackendReport r;
  r.name = api;
  std::string found;
  for (const std::string& path : sources.browsers) {
    if (access(path.c_str(), X_OK) == 0) {
      found = path;
      break;
    }
  }
  std::string note;
  if (found.empty()) {
    note = "no Chromium-based browser installed (looked for";
    for (const auto& p : sources.browsers) note += " " + p;
    note += ")";
  } else {
    r.runtime = found;
    // The browser is the device: its GPU process picks the adapter at run time.
    r.devices.push_back({"Chromium " + std::string(api), "browser", 0, -1, "",
                         std::string(api) == "webnn" ? "needs --enable-features=WebMachineLearningNeuralNetwork"
                                                     : "needs --enable-unsafe-webgpu on Linux"});
  }
  r.hardware_found = !found.empty();
  FinishReport(r, note);
  return r;
}

BackendReport ProbeMps() {
  BackendReport r;
  r.name = "mps";
#if defined(__APPLE__)
  // Metal detection needs Objective-C; until a macOS build exists, say so rather than guess.
  FinishReport(r, "Metal detection not implemented in this build");
#else
  FinishReport(r, "Apple Metal exists only on macOS");
#endif
  return r;
}

}  // namespace accel::hw
