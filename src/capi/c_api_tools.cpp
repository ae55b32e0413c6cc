// The C API's whole-program calls: version, verify, the hardware report, device selection.
#include <string>

#include "capi/c_api_support.h"
#include "core/version.h"
#include "hw/hw_report.h"
#include "placement/device_selection.h"
#include "placement/memory_budget.h"
#include "registry/model_evidence.h"
#include "runtime/verify.h"

using namespace accel;
using namespace accel::capi;

namespace {

accel_status ReturnJson(const char* function, const nlohmann::json& j, char** out) {
  *out = CopyString(j.dump());
  return *out ? Ok() : Fail(ACCEL_ERR_OUT_OF_MEMORY, std::string(function) + ": out of memory");
}

}  // namespace

extern "C" {

int accel_api_version(void) { return ACCEL_API_VERSION; }

const char* accel_version(void) {
  static const std::string v = std::string(kVersion) + " (" + kGitCommit + ")";
  return v.c_str();
}

accel_status accel_verify(const char* fixture_dir, const char* device, char** report) {
  return Guard("accel_verify", [&]() -> accel_status {
    if (report) *report = nullptr;
    if (!fixture_dir) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_verify: fixture_dir must not be NULL");
    LoadOptions options;
    options.device = device && *device ? device : "cpu";
    auto r = VerifyFixture(fixture_dir, options);
    if (!r.ok()) return Fail(r.status());
    if (report) {
      accel_status s = ReturnJson("accel_verify", ToJson(*r), report);
      if (s != ACCEL_OK) return s;
    }
    if (!r->ok()) return Fail(ACCEL_ERR_CHECK_FAILED, std::string("accel_verify: ") + fixture_dir + ": outputs differ from the reference");
    return Ok();
  });
}

accel_status accel_hardware_report(char** json) {
  return Guard("accel_hardware_report", [&]() -> accel_status {
    if (!json) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_hardware_report: json must not be NULL");
    *json = nullptr;
    return ReturnJson("accel_hardware_report", hw::ToJson(hw::DetectHardware(hw::HwSources::FromEnv())), json);
  });
}

accel_status accel_select_device(const char* model_path, int64_t batch, int64_t seq, char** json) {
  return Guard("accel_select_device", [&]() -> accel_status {
    if (!model_path || !json) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_select_device: model_path and json must not be NULL");
    *json = nullptr;
    if (batch < 1 || seq < 1) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_select_device: batch and seq must be at least 1");
    auto evidence = registry::GatherEvidence(model_path);
    if (!evidence.ok()) return Fail(evidence.status());
    auto profile = ModelProfile::FromEvidence(*evidence);
    if (!profile.ok()) return Fail(profile.status());
    hw::HwReport hardware = hw::DetectHardware(hw::HwSources::FromEnv());
    SelectionOptions options;
    if (auto limit = ResolveMemoryLimit("", hardware.memory); limit.ok()) options.memory_limit_bytes = *limit;
    auto selection = SelectDevice(*profile, {batch, seq}, hardware, /*history=*/nullptr, options);
    if (!selection.ok()) return Fail(selection.status());
    nlohmann::json j = ToJson(*selection, *profile, {batch, seq});
    j["model"] = model_path;
    return ReturnJson("accel_select_device", j, json);
  });
}

}  // extern "C"
