// Devices on the command line: a device this build or machine cannot provide is one line naming
// it and exit 2; the emulated device runs a fixture end to end and reports its host fallbacks.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "runtime/devices.h"
#include "test_util.h"

namespace accel {
namespace {

TEST(DeviceCli, UnavailableDeviceIsOneLineAndExit2) {
  for (const char* device : {"cuda", "cuda:7", "vulkan", "tpu"}) {
    if (CreateBackend(device).ok()) continue;  // this machine has it
    auto r = test::RunCli(std::string("verify --device ") + device + " " + test::ModelDir("bert-tiny"));
    EXPECT_EQ(r.exit_code, 2) << device << ": " << r.out;
    EXPECT_NE(r.out.find(device), std::string::npos) << r.out;
    EXPECT_LE(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  }
}

TEST(DeviceCli, EmulatedDeviceReportsFallbacksInJson) {
  auto r = test::RunCli("verify --json --device emulated " + test::ModelDir("vit-tiny"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j.value("device", ""), "emulated") << r.out;
  // ViT's patch embedding is a Conv2d, which the emulated device (like CUDA) leaves to the CPU.
  EXPECT_EQ(j["fallback"].value("by_op", ""), "Conv2d x1") << r.out;
  EXPECT_GT(j["fallback"].value("copies", 0), 0) << r.out;
}

}  // namespace
}  // namespace accel
