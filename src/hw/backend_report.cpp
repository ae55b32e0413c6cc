#include "hw/backend_report.h"

namespace accel::hw {

bool EngineHasBackend(std::string_view backend) {
  // Add a name here in the change that adds its kernels.
#if ACCEL_WITH_VULKAN
  if (backend == "vulkan") return true;
#endif
  return backend == "cpu";
}

void FinishReport(BackendReport& report, const std::string& detection_note) {
  report.engine_backend_built = EngineHasBackend(report.name);
  report.available = report.hardware_found && report.engine_backend_built;
  if (!report.hardware_found) {
    report.reason = detection_note;
  } else if (!report.engine_backend_built) {
    report.reason = "engine backend not built (" + std::to_string(report.devices.size()) + " device(s) detected)";
  } else {
    report.reason = detection_note.empty() ? "ready" : detection_note;
  }
}

}  // namespace accel::hw
