#include "backends/vulkan/vulkan_context.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/dynamic_library.h"

namespace accel::vulkan {

namespace {

// The embedded SPIR-V (cmake/vulkan.cmake compiles shaders/*.comp into generated/vulkan/).
const unsigned char kLinear[] = {
#include "vulkan/linear.spv.inc"
};
const unsigned char kLayerNorm[] = {
#include "vulkan/layer_norm.spv.inc"
};
const unsigned char kRmsNorm[] = {
#include "vulkan/rms_norm.spv.inc"
};
const unsigned char kSoftmax[] = {
#include "vulkan/softmax.spv.inc"
};
const unsigned char kElementwise[] = {
#include "vulkan/elementwise.spv.inc"
};
const unsigned char kEmbedding[] = {
#include "vulkan/embedding.spv.inc"
};
const unsigned char kRope[] = {
#include "vulkan/rope.spv.inc"
};
const unsigned char kAttention[] = {
#include "vulkan/attention.spv.inc"
};
const unsigned char kConv[] = {
#include "vulkan/conv.spv.inc"
};
const unsigned char kGroupNorm[] = {
#include "vulkan/group_norm.spv.inc"
};
const unsigned char kTranspose[] = {
#include "vulkan/transpose.spv.inc"
};
const unsigned char kLinearGemv[] = {
#include "vulkan/linear_gemv.spv.inc"
};
const unsigned char kLinearSmall[] = {
#include "vulkan/linear_small.spv.inc"
};
const unsigned char kLinearQuant[] = {
#include "vulkan/linear_quant.spv.inc"
};

struct ShaderCode {
  const unsigned char* data;
  size_t size;
  const char* name;
};
const ShaderCode kShaders[] = {
    {kLinear, sizeof(kLinear), "linear"},          {kLayerNorm, sizeof(kLayerNorm), "layer_norm"},
    {kRmsNorm, sizeof(kRmsNorm), "rms_norm"},      {kSoftmax, sizeof(kSoftmax), "softmax"},
    {kElementwise, sizeof(kElementwise), "elementwise"}, {kEmbedding, sizeof(kEmbedding), "embedding"},
    {kRope, sizeof(kRope), "rope"},                {kAttention, sizeof(kAttention), "attention"},
    {kConv, sizeof(kConv), "conv"},                {kGroupNorm, sizeof(kGroupNorm), "group_norm"},
    {kTranspose, sizeof(kTranspose), "transpose"},     {kLinearGemv, sizeof(kLinearGemv), "linear_gemv"},
    {kLinearSmall, sizeof(kLinearSmall), "linear_small"},  {kLinearQuant, sizeof(kLinearQuant), "linear_quant"},
};
static_assert(std::size(kShaders) == static_cast<size_t>(Shader::kCount));

constexpr size_t kStagingBytes = size_t{32} << 20;
constexpr uint32_t kSetsPerPool = 256;
constexpr int kMaxRecorded = 512;  // dispatches per submit
constexpr uint64_t kFenceTimeoutNs = uint64_t{600} * 1000000000;

const char* ResultName(VkResult r) {
  switch (r) {
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_INVALID_SHADER_NV: return "VK_ERROR_INVALID_SHADER_NV";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    default: return "VkResult";
  }
}

std::string Describe(VkResult r) { return std::string(ResultName(r)) + " (" + std::to_string(static_cast<int>(r)) + ")"; }

Status FromVk(VkResult r, const std::string& what) {
  if (r == VK_SUCCESS) return Status::Ok();
  if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY) {
    return OutOfMemory("vulkan: " + what + ": " + Describe(r));
  }
  return Internal("vulkan: " + what + ": " + Describe(r));
}

// The loader, opened once and kept (ICDs do not always survive being unloaded).
Result<Api> LoadApi() {
  static const Result<std::shared_ptr<DynamicLibrary>> lib = DynamicLibrary::OpenFirst({"libvulkan.so.1", "libvulkan.so"});
  if (!lib.ok()) return Unsupported("no Vulkan loader (libvulkan.so.1) on this machine");
  Api api;
  auto get_proc = lib.value()->Symbol<PFN_vkGetInstanceProcAddr>("vkGetInstanceProcAddr");
  if (!get_proc.ok()) return Unsupported("the Vulkan loader has no vkGetInstanceProcAddr");
  api.vkGetInstanceProcAddr = *get_proc;
  api.vkCreateInstance = reinterpret_cast<PFN_vkCreateInstance>(api.vkGetInstanceProcAddr(nullptr, "vkCreateInstance"));
  if (!api.vkCreateInstance) return Unsupported("the Vulkan loader has no vkCreateInstance");
  return api;
}

Status LoadInstanceFunctions(Api& api, VkInstance instance) {
#define ACCEL_VK_LOAD(f)                                                                      \
  api.f = reinterpret_cast<PFN_##f>(api.vkGetInstanceProcAddr(instance, #f));                 \
  if (!api.f) return Unsupported("the Vulkan loader has no " #f);
  ACCEL_VK_INSTANCE_FUNCS(ACCEL_VK_LOAD)
#undef ACCEL_VK_LOAD
  return Status::Ok();
}

Result<VkInstance> NewInstance(Api& api) {
  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "accel";
  app.apiVersion = VK_API_VERSION_1_1;
  VkInstanceCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  info.pApplicationInfo = &app;
  VkInstance instance = VK_NULL_HANDLE;
  const VkResult rc = api.vkCreateInstance(&info, nullptr, &instance);
  if (rc == VK_ERROR_INCOMPATIBLE_DRIVER) return Unsupported("no Vulkan driver (ICD) is installed");
  if (rc != VK_SUCCESS) return Unsupported("vkCreateInstance failed: " + Describe(rc));
  ACCEL_RETURN_IF_ERROR(LoadInstanceFunctions(api, instance));
  return instance;
}

}  // namespace

int CountDevices() {
  auto api = LoadApi();
  if (!api.ok()) return 0;
  auto instance = NewInstance(*api);
  if (!instance.ok()) return 0;
  uint32_t n = 0;
  api->vkEnumeratePhysicalDevices(*instance, &n, nullptr);
  api->vkDestroyInstance(*instance, nullptr);
  return static_cast<int>(n);
}

Result<std::shared_ptr<Context>> Context::Create(int index) {
  std::shared_ptr<Context> ctx(new Context());
  ACCEL_RETURN_IF_ERROR(ctx->Init(index));
  return ctx;
}

Status Context::Init(int index) {
  ACCEL_ASSIGN_OR_RETURN(vk_, LoadApi());
  ACCEL_ASSIGN_OR_RETURN(instance_, NewInstance(vk_));
  uint32_t n = 0;
  vk_.vkEnumeratePhysicalDevices(instance_, &n, nullptr);
  if (n == 0) return Unsupported("the Vulkan loader reports no device");
  std::vector<VkPhysicalDevice> devices(n);
  vk_.vkEnumeratePhysicalDevices(instance_, &n, devices.data());
  if (index < 0 || static_cast<uint32_t>(index) >= n) {
    return Unsupported("no Vulkan device " + std::to_string(index) + " (the loader reports " + std::to_string(n) + ")");
  }
  phys_ = devices[index];
  vk_.vkGetPhysicalDeviceProperties(phys_, &props_);
  vk_.vkGetPhysicalDeviceMemoryProperties(phys_, &mem_);
  name_ = props_.deviceName;
  if (props_.apiVersion < VK_API_VERSION_1_1) return Unsupported("Vulkan device '" + name_ + "' is older than Vulkan 1.1");
  max_buffer_ = props_.limits.maxStorageBufferRange;

  uint32_t nf = 0;
  vk_.vkGetPhysicalDeviceQueueFamilyProperties(phys_, &nf, nullptr);
  std::vector<VkQueueFamilyProperties> families(nf);
  vk_.vkGetPhysicalDeviceQueueFamilyProperties(phys_, &nf, families.data());
  bool found = false;
  for (uint32_t i = 0; i < nf && !found; ++i) {
    if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) family_ = i, found = true;
  }
  if (!found) return Unsupported("Vulkan device '" + name_ + "' has no compute queue");

  VkPhysicalDeviceFeatures have{};
  vk_.vkGetPhysicalDeviceFeatures(phys_, &have);
  VkPhysicalDeviceFeatures want{};
  f64_ = have.shaderFloat64;
  want.shaderFloat64 = have.shaderFloat64;
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue{};
  queue.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  queue.queueFamilyIndex = family_;
  queue.queueCount = 1;
  queue.pQueuePriorities = &priority;
  VkDeviceCreateInfo dci{};
  dci.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &queue;
  dci.pEnabledFeatures = &want;
  ACCEL_RETURN_IF_ERROR(FromVk(vk_.vkCreateDevice(phys_, &dci, nullptr, &dev_), "creating a device on '" + name_ + "'"));
  vk_.vkGetDeviceQueue(dev_, family_, 0, &queue_);

  VkDescriptorSetLayoutBinding binding{};
  binding.binding = 0;
  binding.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
  binding.descriptorCount = 8;
  binding.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  VkDescriptorSetLayoutCreateInfo sli{};
  sli.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
  sli.bindingCount = 1;
  sli.pBindings = &binding;
  ACCEL_RETURN_IF_ERROR(FromVk(vk_.vkCreateDescriptorSetLayout(dev_, &sli, nullptr, &set_layout_), "descriptor set layout"));
  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(Push)};
  VkPipelineLayoutCreateInfo pli{};
  pli.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
  pli.setLayoutCount = 1;
  pli.pSetLayouts = &set_layout_;
  pli.pushConstantRangeCount = 1;
  pli.pPushConstantRanges = &range;
  ACCEL_RETURN_IF_ERROR(FromVk(vk_.vkCreatePipelineLayout(dev_, &pli, nullptr, &layout_), "pipeline layout"));
  VkPipelineCacheCreateInfo pci{};
  pci.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO;
  ACCEL_RETURN_IF_ERROR(FromVk(vk_.vkCreatePipelineCache(dev_, &pci, nullptr, &cache_), "pipeline cache"));

  VkCommandPoolCreateInfo cpi{};
  cpi.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  cpi.queueFamilyIndex = family_;
  ACCEL_RETURN_IF_ERROR(FromVk(vk_.vkCreateCommandPool(dev_, &cpi, nullptr, &pool_), "command pool"));
  VkCommandBufferAllocateInfo cai{};
  cai.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
  cai.commandPool = pool_;
  cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  cai.commandBufferCount = 1;
  ACCEL_RETURN_IF_ERROR(FromVk(vk_.vkAllocateCommandBuffers(dev_, &cai, &cmd_), "command buffer"));
  VkFenceCreateInfo fci{};
  fci.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
  ACCEL_RETURN_IF_ERROR(FromVk(vk_.vkCreateFence(dev_, &fci, nullptr, &fence_), "fence"));

  ACCEL_ASSIGN_OR_RETURN(staging_, CreateBuffer(kStagingBytes, /*staging=*/true));
  ACCEL_ASSIGN_OR_RETURN(dummy_, CreateBuffer(256));
  return Status::Ok();
}

Context::~Context() {
  if (!dev_) {
    if (instance_) vk_.vkDestroyInstance(instance_, nullptr);
    return;
  }
  vk_.vkDeviceWaitIdle(dev_);
  for (Buffer* b : release_) Destroy(b);
  release_.clear();
  while (!buffers_.empty()) Destroy(buffers_.begin()->second);
  for (VkPipeline p : pipelines_) {
    if (p) vk_.vkDestroyPipeline(dev_, p, nullptr);
  }
  for (VkDescriptorPool p : set_pools_) vk_.vkDestroyDescriptorPool(dev_, p, nullptr);
  if (fence_) vk_.vkDestroyFence(dev_, fence_, nullptr);
  if (pool_) vk_.vkDestroyCommandPool(dev_, pool_, nullptr);
  if (cache_) vk_.vkDestroyPipelineCache(dev_, cache_, nullptr);
  if (layout_) vk_.vkDestroyPipelineLayout(dev_, layout_, nullptr);
  if (set_layout_) vk_.vkDestroyDescriptorSetLayout(dev_, set_layout_, nullptr);
  vk_.vkDestroyDevice(dev_, nullptr);
  vk_.vkDestroyInstance(instance_, nullptr);
}

int32_t Context::MemoryType(uint32_t bits, VkMemoryPropertyFlags want) const {
  for (uint32_t i = 0; i < mem_.memoryTypeCount; ++i) {
    if ((bits & (1u << i)) && (mem_.memoryTypes[i].propertyFlags & want) == want) return static_cast<int32_t>(i);
  }
  return -1;
}

Result<Buffer*> Context::CreateBuffer(size_t bytes, bool staging) {
  std::lock_guard lock(mu_);
  bytes = std::max<size_t>(256, (bytes + 255) / 256 * 256);
  if (bytes > max_buffer_ && !staging) {
    return OutOfMemory("vulkan: a buffer of " + std::to_string(bytes) + " bytes exceeds the device's storage-buffer range of " +
                       std::to_string(max_buffer_) + " bytes on '" + name_ + "'");
  }
  auto b = std::make_unique<Buffer>();
  VkBufferCreateInfo bi{};
  bi.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  bi.size = bytes;
  bi.usage = staging ? VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT
                     : VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  ACCEL_RETURN_IF_ERROR(FromVk(vk_.vkCreateBuffer(dev_, &bi, nullptr, &b->buffer), "creating a buffer"));
  VkMemoryRequirements req{};
  vk_.vkGetBufferMemoryRequirements(dev_, b->buffer, &req);
  int32_t type = staging ? MemoryType(req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)
                         : MemoryType(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  if (type < 0) type = MemoryType(req.memoryTypeBits, 0);
  VkMemoryAllocateInfo ai{};
  ai.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  ai.allocationSize = req.size;
  ai.memoryTypeIndex = static_cast<uint32_t>(type);
  VkResult rc = vk_.vkAllocateMemory(dev_, &ai, nullptr, &b->memory);
  if (rc != VK_SUCCESS) {
    vk_.vkDestroyBuffer(dev_, b->buffer, nullptr);
    return FromVk(rc, "allocating " + std::to_string(bytes) + " bytes on '" + name_ + "'");
  }
  vk_.vkBindBufferMemory(dev_, b->buffer, b->memory, 0);
  if (staging) {
    rc = vk_.vkMapMemory(dev_, b->memory, 0, VK_WHOLE_SIZE, 0, &b->mapped);
    if (rc != VK_SUCCESS) {
      vk_.vkDestroyBuffer(dev_, b->buffer, nullptr);
      vk_.vkFreeMemory(dev_, b->memory, nullptr);
      return FromVk(rc, "mapping a staging buffer");
    }
  }
  b->size = bytes;
  b->base = next_address_;
  next_address_ += bytes + 4096;  // a gap: one-past-the-end of a buffer is never another's start
  Buffer* out = b.release();
  buffers_[out->base] = out;
  return out;
}

void Context::Destroy(Buffer* b) {
  buffers_.erase(b->base);
  vk_.vkDestroyBuffer(dev_, b->buffer, nullptr);
  vk_.vkFreeMemory(dev_, b->memory, nullptr);  // unmaps
  delete b;
}

void Context::Release(Buffer* b) {
  std::lock_guard lock(mu_);
  if (recording_) {
    release_.push_back(b);
  } else {
    Destroy(b);
  }
}

Result<Binding> Context::Locate(const void* p) const {
  std::lock_guard lock(mu_);
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = buffers_.upper_bound(a);
  if (it == buffers_.begin()) return InvalidArgument("vulkan: pointer is not device memory of '" + name_ + "'");
  --it;
  if (a > it->first + it->second->size) return InvalidArgument("vulkan: pointer is not device memory of '" + name_ + "'");
  return Binding{it->second, a - it->first};
}

Status Context::Lost(VkResult r, const std::string& what) {
  if (r == VK_ERROR_DEVICE_LOST || r == VK_TIMEOUT) lost_ = true;  // a hung submit: nothing recorded is reusable
  return FromVk(r, what + " on '" + name_ + "'");
}

Status Context::Begin() {
  if (lost_) return Internal("vulkan: device '" + name_ + "' was lost");
  if (recording_) return Status::Ok();
  VkCommandBufferBeginInfo bi{};
  bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  VkResult rc = vk_.vkBeginCommandBuffer(cmd_, &bi);
  if (rc != VK_SUCCESS) return Lost(rc, "beginning a command buffer");
  recording_ = true;
  return Status::Ok();
}

// Every command sees everything the commands before it wrote (correctness first).
void Context::Barrier() {
  VkMemoryBarrier mb{};
  mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  mb.srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT;
  vk_.vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 1, &mb, 0,
                           nullptr, 0, nullptr);
}

Status Context::Flush() {
  std::lock_guard lock(mu_);
  if (!recording_) return Status::Ok();
  VkMemoryBarrier mb{};
  mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  mb.srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vk_.vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0,
                           nullptr);
  recording_ = false;
  recorded_ = 0;
  VkResult rc = vk_.vkEndCommandBuffer(cmd_);
  if (rc == VK_SUCCESS) {
    VkSubmitInfo si{};
    si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cmd_;
    rc = vk_.vkQueueSubmit(queue_, 1, &si, fence_);
    if (rc == VK_SUCCESS) rc = vk_.vkWaitForFences(dev_, 1, &fence_, VK_TRUE, kFenceTimeoutNs);
    if (rc == VK_TIMEOUT) return Lost(rc, "waiting " + std::to_string(kFenceTimeoutNs / 1000000000) + " s for recorded work");
    vk_.vkResetFences(dev_, 1, &fence_);
  }
  vk_.vkResetCommandPool(dev_, pool_, 0);
  for (VkDescriptorPool p : set_pools_) vk_.vkResetDescriptorPool(dev_, p, 0);
  set_pool_ = 0;
  sets_used_ = 0;
  staging_used_ = 0;
  for (Buffer* b : release_) Destroy(b);
  release_.clear();
  if (rc != VK_SUCCESS) return Lost(rc, "running recorded work");
  return Status::Ok();
}

Result<VkPipeline> Context::Pipeline(Shader s, std::string_view op) {
  VkPipeline& p = pipelines_[static_cast<size_t>(s)];
  if (p) return p;
  const ShaderCode& code = kShaders[static_cast<size_t>(s)];
  std::vector<uint32_t> words((code.size + 3) / 4);
  std::memcpy(words.data(), code.data, code.size);
  VkShaderModuleCreateInfo mi{};
  mi.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
  mi.codeSize = code.size;
  mi.pCode = words.data();
  VkShaderModule module = VK_NULL_HANDLE;
  const std::string where = std::string(op) + " (shader " + code.name + ") on '" + name_ + "'";
  VkResult rc = vk_.vkCreateShaderModule(dev_, &mi, nullptr, &module);
  if (rc != VK_SUCCESS) return Internal("vulkan: cannot load the shader of " + where + ": " + Describe(rc));
  VkComputePipelineCreateInfo ci{};
  ci.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
  ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = module;
  ci.stage.pName = "main";
  ci.layout = layout_;
  rc = vk_.vkCreateComputePipelines(dev_, cache_, 1, &ci, nullptr, &p);
  vk_.vkDestroyShaderModule(dev_, module, nullptr);
  if (rc != VK_SUCCESS) {
    p = VK_NULL_HANDLE;
    return Internal("vulkan: cannot create the pipeline of " + where + ": " + Describe(rc));
  }
  return p;
}

Status Context::Dispatch(Shader shader, std::string_view op, const std::array<Binding, 8>& binds, const Push& push,
                         uint32_t gx, uint32_t gy) {
  std::lock_guard lock(mu_);
  if (gx == 0 || gy == 0) return Status::Ok();
  const auto& lim = props_.limits.maxComputeWorkGroupCount;
  if (gx > lim[0] || gy > lim[1]) {
    return InvalidArgument("vulkan: " + std::string(op) + " needs " + std::to_string(gx) + " x " + std::to_string(gy) +
                           " workgroups, more than '" + name_ + "' dispatches");
  }
  ACCEL_ASSIGN_OR_RETURN(VkPipeline pipeline, Pipeline(shader, op));
  ACCEL_RETURN_IF_ERROR(Begin());
  if (sets_used_ == kSetsPerPool) {
    ++set_pool_;
    sets_used_ = 0;
  }
  if (set_pool_ == set_pools_.size()) {
    VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kSetsPerPool * 8};
    VkDescriptorPoolCreateInfo pi{};
    pi.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
    pi.maxSets = kSetsPerPool;
    pi.poolSizeCount = 1;
    pi.pPoolSizes = &size;
    VkDescriptorPool pool = VK_NULL_HANDLE;
    ACCEL_RETURN_IF_ERROR(FromVk(vk_.vkCreateDescriptorPool(dev_, &pi, nullptr, &pool), "descriptor pool"));
    set_pools_.push_back(pool);
  }
  VkDescriptorSetAllocateInfo ai{};
  ai.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
  ai.descriptorPool = set_pools_[set_pool_];
  ai.descriptorSetCount = 1;
  ai.pSetLayouts = &set_layout_;
  VkDescriptorSet set = VK_NULL_HANDLE;
  ACCEL_RETURN_IF_ERROR(FromVk(vk_.vkAllocateDescriptorSets(dev_, &ai, &set), "descriptor set for " + std::string(op)));
  ++sets_used_;
  VkDescriptorBufferInfo infos[8];
  for (int i = 0; i < 8; ++i) {
    const Buffer* b = binds[i].buffer ? binds[i].buffer : dummy_;
    infos[i] = {b->buffer, 0, VK_WHOLE_SIZE};
  }
  VkWriteDescriptorSet w{};
  w.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
  w.dstSet = set;
  w.dstBinding = 0;
  w.descriptorCount = 8;
  w.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
  w.pBufferInfo = infos;
  vk_.vkUpdateDescriptorSets(dev_, 1, &w, 0, nullptr);
  vk_.vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
  vk_.vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, layout_, 0, 1, &set, 0, nullptr);
  vk_.vkCmdPushConstants(cmd_, layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(Push), push.u);
  vk_.vkCmdDispatch(cmd_, gx, gy, 1);
  Barrier();
  // ACCEL_VULKAN_SYNC=1: one submit per op, named on stderr (debugging a kernel).
  static const bool sync = std::getenv("ACCEL_VULKAN_SYNC") != nullptr;
  if (sync) {
    std::fprintf(stderr, "vulkan: %.*s %ux%u\n", static_cast<int>(op.size()), op.data(), gx, gy);
    return Flush();
  }
  if (++recorded_ >= kMaxRecorded) return Flush();
  return Status::Ok();
}

Status Context::Dispatch1D(Shader shader, std::string_view op, const std::array<Binding, 8>& binds, const Push& push,
                           uint64_t groups) {
  if (groups == 0) return Status::Ok();
  const uint64_t gx = std::min<uint64_t>(groups, 65535);
  const uint64_t gy = (groups + gx - 1) / gx;
  if (gy > 65535) return InvalidArgument("vulkan: " + std::string(op) + " is too large for one dispatch");
  return Dispatch(shader, op, binds, push, static_cast<uint32_t>(gx), static_cast<uint32_t>(gy));
}

Status Context::Fill(const Buffer& b, size_t offset, size_t bytes) {
  std::lock_guard lock(mu_);
  ACCEL_RETURN_IF_ERROR(Begin());
  vk_.vkCmdFillBuffer(cmd_, b.buffer, offset, (bytes + 3) / 4 * 4, 0);
  Barrier();
  return Status::Ok();
}

Status Context::CopyRegions(const Buffer& src, const Buffer& dst, const std::vector<VkBufferCopy>& regions) {
  std::lock_guard lock(mu_);
  if (regions.empty()) return Status::Ok();
  ACCEL_RETURN_IF_ERROR(Begin());
  vk_.vkCmdCopyBuffer(cmd_, src.buffer, dst.buffer, static_cast<uint32_t>(regions.size()), regions.data());
  Barrier();
  return Status::Ok();
}

// Host -> device through the staging buffer: rows (or pieces of a long row) are packed into it
// and copied by the queue in order with the recorded dispatches; a full staging buffer flushes.
Status Context::Write(const Buffer& b, const Rows& rows, const void* host) {
  std::lock_guard lock(mu_);
  const char* src = static_cast<const char*>(host);
  std::vector<VkBufferCopy> regions;
  auto emit = [&]() -> Status {
    Status s = CopyRegions(*staging_, b, regions);
    regions.clear();
    return s;
  };
  for (int64_t r = 0; r < rows.rows; ++r) {
    size_t done = 0;
    while (done < rows.row_bytes) {
      if (staging_used_ == staging_->size) {
        ACCEL_RETURN_IF_ERROR(emit());
        ACCEL_RETURN_IF_ERROR(Flush());
      }
      const size_t n = std::min(rows.row_bytes - done, staging_->size - staging_used_);
      std::memcpy(static_cast<char*>(staging_->mapped) + staging_used_, src + r * rows.row_bytes + done, n);
      regions.push_back({staging_used_, rows.device_offset + r * rows.stride + done, n});
      staging_used_ = std::min(staging_->size, (staging_used_ + n + 15) / 16 * 16);
      done += n;
    }
  }
  return emit();
}

Status Context::Read(const Buffer& b, const Rows& rows, void* host) {
  std::lock_guard lock(mu_);
  ACCEL_RETURN_IF_ERROR(Flush());
  char* dst = static_cast<char*>(host);
  struct Piece {
    size_t staging, host, bytes;
  };
  std::vector<VkBufferCopy> regions;
  std::vector<Piece> pieces;
  auto drain = [&]() -> Status {
    ACCEL_RETURN_IF_ERROR(CopyRegions(b, *staging_, regions));
    ACCEL_RETURN_IF_ERROR(Flush());
    for (const Piece& p : pieces) std::memcpy(dst + p.host, static_cast<char*>(staging_->mapped) + p.staging, p.bytes);
    regions.clear();
    pieces.clear();
    return Status::Ok();
  };
  size_t used = 0;
  for (int64_t r = 0; r < rows.rows; ++r) {
    size_t done = 0;
    while (done < rows.row_bytes) {
      if (used == staging_->size) {
        ACCEL_RETURN_IF_ERROR(drain());
        used = 0;
      }
      const size_t n = std::min(rows.row_bytes - done, staging_->size - used);
      regions.push_back({rows.device_offset + r * rows.stride + done, used, n});
      pieces.push_back({used, r * rows.row_bytes + done, n});
      used = std::min(staging_->size, (used + n + 15) / 16 * 16);
      done += n;
    }
  }
  return regions.empty() ? Status::Ok() : drain();
}

}  // namespace accel::vulkan
