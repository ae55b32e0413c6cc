// Vulkan physical devices through the loader (libvulkan): discrete and integrated GPUs, and
// Mesa's lavapipe CPU device on Debian.
#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <dlfcn.h>
#include <link.h>

#include <set>
#include <string>

#include "hw/backend_probes.h"
#include "core/dynamic_library.h"


namespace accel::hw {

namespace {
const char* DeviceType(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "gpu";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated-gpu";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual-gpu";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

Result<std::vector<DeviceInfo>> QueryVulkan(const DynamicLibrary& lib) {
  ACCEL_ASSIGN_OR_RETURN(auto get_proc, lib.Symbol<PFN_vkGetInstanceProcAddr>("vkGetInstanceProcAddr"));
  auto create = reinterpret_cast<PFN_vkCreateInstance>(get_proc(nullptr, "vkCreateInstance"));
  if (!create) return NotFound(lib.name() + ": vkCreateInstance missing");
  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "accel hw";
  app.apiVersion = VK_API_VERSION_1_0;
  VkInstanceCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  info.pApplicationInfo = &app;
  VkInstance instance = VK_NULL_HANDLE;
  const std::set<std::string> before = LoadedObjects();
  VkResult rc = create(&info, nullptr, &instance);
  PinNewlyLoaded(before);
  // No driver installed: the loader answers VK_ERROR_INCOMPATIBLE_DRIVER.
  if (rc == VK_ERROR_INCOMPATIBLE_DRIVER) return std::vector<DeviceInfo>{};
  if (rc != VK_SUCCESS) return Internal(lib.name() + ": vkCreateInstance failed with code " + std::to_string(rc));
  auto destroy = reinterpret_cast<PFN_vkDestroyInstance>(get_proc(instance, "vkDestroyInstance"));
  auto enumerate = reinterpret_cast<PFN_vkEnumeratePhysicalDevices>(get_proc(instance, "vkEnumeratePhysicalDevices"));
  auto props_fn = reinterpret_cast<PFN_vkGetPhysicalDeviceProperties>(get_proc(instance, "vkGetPhysicalDeviceProperties"));
  auto mem_fn = reinterpret_cast<PFN_vkGetPhysicalDeviceMemoryProperties>(
      get_proc(instance, "vkGetPhysicalDeviceMemoryProperties"));
  std::vector<DeviceInfo> out;
  if (enumerate && props_fn && mem_fn) {
    uint32_t n = 0;
    enumerate(instance, &n, nullptr);
    if (n > 64) n = 64;
    std::vector<VkPhysicalDevice> devices(n);
    if (n > 0 && enumerate(instance, &n, devices.data()) >= 0) {
      for (uint32_t i = 0; i < n; ++i) {
        VkPhysicalDeviceProperties p{};
        props_fn(devices[i], &p);
        VkPhysicalDeviceMemoryProperties m{};
        mem_fn(devices[i], &m);
        DeviceInfo d;
        d.name = p.deviceName;
        d.type = DeviceType(p.deviceType);
        d.compute_capability = "Vulkan " + std::to_string(VK_API_VERSION_MAJOR(p.apiVersion)) + "." +
                               std::to_string(VK_API_VERSION_MINOR(p.apiVersion));
        for (uint32_t h = 0; h < m.memoryHeapCount && h < VK_MAX_MEMORY_HEAPS; ++h)
          if (m.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            d.memory_total_bytes += static_cast<int64_t>(m.memoryHeaps[h].size);
        out.push_back(d);
      }
    }
  }
  if (destroy) destroy(instance, nullptr);
  if (!enumerate || !props_fn || !mem_fn) return NotFound(lib.name() + ": instance functions missing");
  return out;
}
}  // namespace

BackendReport ProbeVulkan(const HwSources& sources) {
  BackendReport r;
  r.name = "vulkan";
  std::string note;
  auto lib = DynamicLibrary::OpenFirst(sources.vulkan_libs);
  if (!lib.ok()) {
    note = "Vulkan loader not installed: " + lib.status().message();
  } else {
    r.runtime = (*lib)->name();
    auto devices = QueryVulkan(**lib);
    if (devices.ok()) r.devices = std::move(*devices);
    else note = devices.status().message();
    if (devices.ok() && r.devices.empty()) note = "no Vulkan driver reports a device";
  }
  r.hardware_found = !r.devices.empty();
  FinishReport(r, note);
  return r;
}

}  // namespace accel::hw
