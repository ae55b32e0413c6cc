#pragma once
// The Vulkan device under the backend: the loader's entry points (dlopen, no link-time
// dependency on libvulkan), one compute queue, buffers addressed by synthetic device addresses,
// a staging buffer for uploads and downloads, and a command buffer into which dispatches are
// recorded and submitted in batches.
#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"

namespace accel::vulkan {

#define ACCEL_VK_INSTANCE_FUNCS(X)                                                                                 \
  X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties)                              \
  X(vkGetPhysicalDeviceFeatures) X(vkGetPhysicalDeviceQueueFamilyProperties) X(vkGetPhysicalDeviceMemoryProperties) \
  X(vkCreateDevice) X(vkDestroyDevice) X(vkGetDeviceQueue) X(vkCreateBuffer) X(vkDestroyBuffer)                    \
  X(vkGetBufferMemoryRequirements) X(vkAllocateMemory) X(vkFreeMemory) X(vkBindBufferMemory) X(vkMapMemory)        \
  X(vkCreateShaderModule) X(vkDestroyShaderModule) X(vkCreateDescriptorSetLayout) X(vkDestroyDescriptorSetLayout)  \
  X(vkCreatePipelineLayout) X(vkDestroyPipelineLayout) X(vkCreatePipelineCache) X(vkDestroyPipelineCache)          \
  X(vkCreateComputePipelines) X(vkDestroyPipeline) X(vkCreateDescriptorPool) X(vkDestroyDescriptorPool)            \
  X(vkResetDescriptorPool) X(vkAllocateDescriptorSets) X(vkUpdateDescriptorSets) X(vkCreateCommandPool)            \
  X(vkDestroyCommandPool) X(vkAllocateCommandBuffers) X(vkResetCommandPool) X(vkBeginCommandBuffer)                \
  X(vkEndCommandBuffer) X(vkCmdBindPipeline) X(vkCmdBindDescriptorSets) X(vkCmdPushConstants) X(vkCmdDispatch)     \
  X(vkCmdPipelineBarrier) X(vkCmdCopyBuffer) X(vkCmdFillBuffer) X(vkCreateFence) X(vkDestroyFence)                 \
  X(vkResetFences) X(vkWaitForFences) X(vkQueueSubmit) X(vkDeviceWaitIdle)

struct Api {
  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
  PFN_vkCreateInstance vkCreateInstance = nullptr;
#define ACCEL_VK_DECLARE(f) PFN_##f f = nullptr;
  ACCEL_VK_INSTANCE_FUNCS(ACCEL_VK_DECLARE)
#undef ACCEL_VK_DECLARE
};

// The embedded compute shaders (shaders/*.comp).
enum class Shader : uint8_t {
  kLinear, kLayerNorm, kRmsNorm, kSoftmax, kElementwise, kEmbedding, kRope, kAttention, kConv, kGroupNorm, kTranspose, kLinearGemv, kLinearSmall, kLinearQuant, kCount
};

// One VkBuffer with its own memory, known to the device kernels by its synthetic address range
// [base, base + size): tensors on the device carry such addresses as their data pointer.
struct Buffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  size_t size = 0;
  uintptr_t base = 0;
  void* mapped = nullptr;  // staging only
};

// A tensor as a kernel sees it: a buffer and a byte offset into it.
struct Binding {
  const Buffer* buffer = nullptr;
  size_t offset = 0;  // bytes
  uint32_t words() const { return static_cast<uint32_t>(offset / 4); }
};

struct Push {
  uint32_t u[32] = {};
  void f(int k, float v) { __builtin_memcpy(&u[k], &v, 4); }
};

// Contiguous byte pieces of a host <-> device transfer: `rows` rows of `row_bytes`, `stride`
// bytes apart on the device (the host side is dense).
struct Rows {
  size_t device_offset = 0;
  size_t row_bytes = 0;
  size_t stride = 0;
  int64_t rows = 1;
};

class Context {
 public:
  static Result<std::shared_ptr<Context>> Create(int index);
  ~Context();

  std::recursive_mutex& mutex() { return mu_; }
  const std::string& device_name() const { return name_; }
  bool has_f64() const { return f64_; }
  // A Vulkan implementation on the CPU (lavapipe/llvmpipe).
  bool is_cpu() const { return props_.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU; }

  Result<Buffer*> CreateBuffer(size_t bytes, bool staging = false);
  // Frees `b` once the recorded work that may use it has run.
  void Release(Buffer* b);
  // The buffer holding device address `p`.
  Result<Binding> Locate(const void* p) const;

  // Records a dispatch of `shader` (for op `op`, named in errors) over groups (gx, gy).
  Status Dispatch(Shader shader, std::string_view op, const std::array<Binding, 8>& binds, const Push& push,
                  uint32_t gx, uint32_t gy = 1);
  // Spreads `groups` workgroups over x and y.
  Status Dispatch1D(Shader shader, std::string_view op, const std::array<Binding, 8>& binds, const Push& push,
                    uint64_t groups);
  Status Fill(const Buffer& b, size_t offset, size_t bytes);
  Status Write(const Buffer& b, const Rows& rows, const void* host);
  Status Read(const Buffer& b, const Rows& rows, void* host);
  Status CopyRegions(const Buffer& src, const Buffer& dst, const std::vector<VkBufferCopy>& regions);
  // Submits what was recorded and waits for it.
  Status Flush();

  const Buffer* dummy() const { return dummy_; }
  size_t max_buffer() const { return max_buffer_; }

 private:
  Context() = default;
  Status Init(int index);
  Status Begin();
  void Barrier();
  Status Lost(VkResult r, const std::string& what);
  Result<VkPipeline> Pipeline(Shader s, std::string_view op);
  void Destroy(Buffer* b);
  int32_t MemoryType(uint32_t bits, VkMemoryPropertyFlags want) const;

  Api vk_;
  void* lib_ = nullptr;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkPhysicalDevice phys_ = VK_NULL_HANDLE;
  VkDevice dev_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t family_ = 0;
  VkPhysicalDeviceProperties props_{};
  VkPhysicalDeviceMemoryProperties mem_{};
  std::string name_;
  bool f64_ = false;
  size_t max_buffer_ = 0;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipelineCache cache_ = VK_NULL_HANDLE;
  std::array<VkPipeline, static_cast<size_t>(Shader::kCount)> pipelines_{};
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  std::vector<VkDescriptorPool> set_pools_;
  size_t set_pool_ = 0;
  uint32_t sets_used_ = 0;
  bool recording_ = false;
  int recorded_ = 0;
  bool lost_ = false;
  Buffer* staging_ = nullptr;
  size_t staging_used_ = 0;
  Buffer* dummy_ = nullptr;
  std::map<uintptr_t, Buffer*> buffers_;
  std::vector<Buffer*> release_;
  uintptr_t next_address_ = uintptr_t{1} << 44;
  mutable std::recursive_mutex mu_;
};

// Number of physical devices (0 without a loader).
int CountDevices();

}  // namespace accel::vulkan
