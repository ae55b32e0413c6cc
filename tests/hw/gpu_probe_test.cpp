// Backend probes: CUDA through fake libcuda/libnvidia-ml built by the tests (two GPUs, a
// failing driver, a library missing symbols), and the real OpenCL/Vulkan loaders of this
// machine (Debian's PoCL and lavapipe give CPU devices).
#include <cstdlib>

#include <gtest/gtest.h>

#include "hw/backend_probes.h"
#include "hw/hw_report.h"

namespace accel::hw {
namespace {

HwSources FakeCuda() {
  HwSources s;
  s.cuda_libs = {ACCEL_FAKE_CUDA_LIB};
  s.nvml_libs = {ACCEL_FAKE_NVML_LIB};
  return s;
}

class CudaProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("FAKE_CUDA_DEVICES");
    unsetenv("FAKE_CUDA_FAIL_INIT");
  }
  void TearDown() override { SetUp(); }
};

TEST_F(CudaProbe, TwoFakeGpusWithComputeCapabilityMemoryAndDriver) {
  BackendReport r = ProbeCuda(FakeCuda());
  EXPECT_TRUE(r.hardware_found);
  ASSERT_EQ(r.devices.size(), 2u);
  EXPECT_EQ(r.devices[0].name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(r.devices[0].compute_capability, "9.0");
  EXPECT_EQ(r.devices[0].memory_total_bytes, 85520809984LL);
  EXPECT_EQ(r.devices[0].memory_free_bytes, 85520809984LL - (1LL << 30));
  EXPECT_EQ(r.devices[0].detail, "pci 0000:17:00.0");
  EXPECT_EQ(r.devices[1].compute_capability, "8.6");
  EXPECT_EQ(r.driver_version, "550.54.15");
  EXPECT_NE(r.runtime.find("CUDA 12.4"), std::string::npos) << r.runtime;
  // Only the CPU backend is built: the GPUs are hardware, not yet usable by the engine.
  EXPECT_FALSE(r.engine_backend_built);
  EXPECT_FALSE(r.available);
  EXPECT_NE(r.reason.find("engine backend not built"), std::string::npos) << r.reason;
}

TEST_F(CudaProbe, NoLibrariesMeansNotFoundWithReason) {
  HwSources s;
  s.cuda_libs = {"/nonexistent/libcuda.so.1"};
  s.nvml_libs = {"/nonexistent/libnvidia-ml.so.1"};
  BackendReport r = ProbeCuda(s);
  EXPECT_FALSE(r.hardware_found);
  EXPECT_FALSE(r.available);
  EXPECT_NE(r.reason.find("/nonexistent/libcuda.so.1"), std::string::npos) << r.reason;
}

TEST_F(CudaProbe, LibraryMissingSymbolsIsReportedByName) {
  HwSources s;
  s.cuda_libs = {ACCEL_FAKE_CUDA_BROKEN_LIB};
  s.nvml_libs = {"/nonexistent/libnvidia-ml.so.1"};
  BackendReport r = ProbeCuda(s);
  EXPECT_FALSE(r.hardware_found);
  EXPECT_NE(r.reason.find("symbol cuDriverGetVersion missing"), std::string::npos) << r.reason;
}

TEST_F(CudaProbe, FailingCuInitFallsBackToNvml) {
  setenv("FAKE_CUDA_FAIL_INIT", "1", 1);
  BackendReport r = ProbeCuda(FakeCuda());
  EXPECT_TRUE(r.hardware_found);  // NVML still names the GPUs
  ASSERT_EQ(r.devices.size(), 2u);
  EXPECT_EQ(r.devices[0].detail, "from NVML");
  EXPECT_EQ(r.devices[0].compute_capability, "");
}

TEST_F(CudaProbe, FailingCuInitWithoutNvmlSaysWhy) {
  setenv("FAKE_CUDA_FAIL_INIT", "1", 1);
  HwSources s = FakeCuda();
  s.nvml_libs = {"/nonexistent/libnvidia-ml.so.1"};
  BackendReport r = ProbeCuda(s);
  EXPECT_FALSE(r.hardware_found);
  EXPECT_NE(r.reason.find("cuInit failed with code 3"), std::string::npos) << r.reason;
}

TEST_F(CudaProbe, ZeroDevices) {
  setenv("FAKE_CUDA_DEVICES", "0", 1);
  BackendReport r = ProbeCuda(FakeCuda());
  EXPECT_FALSE(r.hardware_found);
  EXPECT_TRUE(r.devices.empty());
}

TEST(OtherProbes, WrongLibrariesAreNotCrashes) {
  HwSources s;
  // A real library that is not the runtime asked for: every symbol lookup fails cleanly.
  s.hip_libs = {ACCEL_FAKE_CUDA_LIB};
  s.openvino_libs = {ACCEL_FAKE_CUDA_LIB};
  s.opencl_libs = {ACCEL_FAKE_CUDA_LIB};
  s.vulkan_libs = {ACCEL_FAKE_CUDA_LIB};
  for (const BackendReport& r : {ProbeRocm(s), ProbeOpenVino(s), ProbeOpenCl(s), ProbeVulkan(s)}) {
    EXPECT_FALSE(r.hardware_found) << r.name;
    EXPECT_NE(r.reason.find("missing"), std::string::npos) << r.name << ": " << r.reason;
  }
}

TEST(OtherProbes, OpenClFindsPoclCpuDeviceWhenInstalled) {
  BackendReport r = ProbeOpenCl(HwSources{});
  if (!r.hardware_found) GTEST_SKIP() << "no OpenCL ICD here: " << r.reason;
  bool cpu = false;
  for (const auto& d : r.devices) cpu |= d.type == "cpu" && d.memory_total_bytes > 0;
  EXPECT_TRUE(cpu);
  EXPECT_FALSE(r.available);  // no OpenCL backend in the engine yet
}

TEST(OtherProbes, VulkanFindsLavapipeWhenInstalled) {
  BackendReport r = ProbeVulkan(HwSources{});
  if (!r.hardware_found) GTEST_SKIP() << "no Vulkan driver here: " << r.reason;
  ASSERT_FALSE(r.devices.empty());
  EXPECT_EQ(r.devices[0].compute_capability.rfind("Vulkan 1.", 0), 0u);
}

TEST(OtherProbes, MpsAndBrowsers) {
  BackendReport mps = ProbeMps();
  EXPECT_FALSE(mps.available);
  EXPECT_FALSE(mps.reason.empty());
  HwSources s;
  s.browsers = {"/nonexistent/chromium"};
  BackendReport web = ProbeBrowser(s, "webgpu");
  EXPECT_FALSE(web.hardware_found);
  EXPECT_NE(web.reason.find("/nonexistent/chromium"), std::string::npos);
  s.browsers = {"/bin/sh"};  // any executable stands in for the browser binary
  BackendReport found = ProbeBrowser(s, "webnn");
  EXPECT_TRUE(found.hardware_found);
  EXPECT_FALSE(found.available);
}

TEST(HwReport, FullReportWithFixturesAndFakeCuda) {
  HwSources s = FakeCuda();
  s.cpuinfo_path = std::string(ACCEL_TEST_DATA_DIR) + "/hw/cpuinfo_xeon_2s_amx.txt";
  s.live_cpu = false;
  s.meminfo_path = "/nonexistent/meminfo";
  HwReport r = DetectHardware(s);
  EXPECT_EQ(r.cpu.sockets, 2);
  EXPECT_NE(r.memory_error.find("/nonexistent/meminfo"), std::string::npos);
  ASSERT_NE(r.Backend("cpu"), nullptr);
  EXPECT_TRUE(r.Backend("cpu")->available);
  ASSERT_NE(r.Backend("cuda"), nullptr);
  EXPECT_EQ(r.Backend("cuda")->devices.size(), 2u);
  auto j = ToJson(r);
  EXPECT_EQ(j["cpu"]["physical_cores"], 4);
  EXPECT_EQ(j["backends"][0]["name"], "cpu");
  std::string text = ToText(r);
  EXPECT_NE(text.find("NVIDIA A10 [8.6]"), std::string::npos) << text;
  EXPECT_NE(text.find("memory:  unknown"), std::string::npos) << text;
}

}  // namespace
}  // namespace accel::hw
