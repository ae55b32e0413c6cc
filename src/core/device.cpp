#include "core/device.h"

#include <charconv>

namespace accel {

std::string_view KindName(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::kCpu: return "cpu";
    case DeviceKind::kCuda: return "cuda";
    case DeviceKind::kVulkan: return "vulkan";
    case DeviceKind::kEmulated: return "emulated";
  }
  return "?";
}

std::string Device::ToString() const {
  if (is_host()) return "cpu";
  return std::string(KindName(kind)) + ":" + std::to_string(index);
}

Result<Device> ParseDevice(std::string_view spec) {
  const size_t colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  Device d;
  if (name == "cpu") {
    d.kind = DeviceKind::kCpu;
  } else if (name == "cuda") {
    d.kind = DeviceKind::kCuda;
  } else if (name == "vulkan") {
    d.kind = DeviceKind::kVulkan;
  } else if (name == "emulated") {
    d.kind = DeviceKind::kEmulated;
  } else {
    return InvalidArgument("unknown device '" + std::string(spec) + "' (expected cpu, cuda[:N], vulkan[:N], emulated or auto)");
  }
  if (colon != std::string_view::npos) {
    const std::string_view num = spec.substr(colon + 1);
    auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), d.index);
    if (ec != std::errc() || end != num.data() + num.size() || d.index < 0 || d.index > 255 || d.is_host()) {
      return InvalidArgument("bad device index in '" + std::string(spec) + "'");
    }
  }
  return d;
}

}  // namespace accel
