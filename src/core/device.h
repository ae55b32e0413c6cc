#pragma once
// Where a tensor's bytes live. The host (CPU) is the default; every other device's memory is
// owned by the backend of that device, and only that backend touches its bytes (the host sees
// them through an explicit download).
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace accel {

// kEmulated: host memory handled as if it were a device's (the CPU behind a device boundary),
// so that the device model is exercised on machines without a GPU.
enum class DeviceKind : uint8_t { kCpu, kCuda, kVulkan, kEmulated };

struct Device {
  DeviceKind kind = DeviceKind::kCpu;
  int index = 0;

  bool is_host() const { return kind == DeviceKind::kCpu; }
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  // "cpu", "cuda:0", "vulkan:1"
  std::string ToString() const;
};

std::string_view KindName(DeviceKind kind);
// Parses "cpu", "cuda", "cuda:N", "vulkan", "vulkan:N" (not "auto": that is a selection, not a device).
Result<Device> ParseDevice(std::string_view spec);

}  // namespace accel
