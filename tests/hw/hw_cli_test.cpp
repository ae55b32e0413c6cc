// `accel hw` end to end, as a user runs it; fixture sources reach the child process through
// the environment it inherits.
#include <cstdlib>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace accel {
namespace {

class HwCli : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const char* v : {"ACCEL_HW_CPUINFO", "ACCEL_HW_MEMINFO", "ACCEL_HW_CUDA_LIB", "ACCEL_HW_NVML_LIB"}) unsetenv(v);
  }
};

TEST_F(HwCli, TextReportOfThisMachine) {
  auto r = test::RunCli("hw");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("cpu:"), std::string::npos);
  EXPECT_NE(r.out.find("cpu       yes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cuda      no"), std::string::npos) << r.out;
}

TEST_F(HwCli, JsonWithFixtureCpuAndFakeGpus) {
  setenv("ACCEL_HW_CPUINFO", (std::string(ACCEL_TEST_DATA_DIR) + "/hw/cpuinfo_arm_neoverse_v2.txt").c_str(), 1);
  setenv("ACCEL_HW_CUDA_LIB", ACCEL_FAKE_CUDA_LIB, 1);
  setenv("ACCEL_HW_NVML_LIB", ACCEL_FAKE_NVML_LIB, 1);
  auto r = test::RunCli("hw --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["cpu"]["arch"], "aarch64");
  EXPECT_EQ(j["cpu"]["isa_source"], "cpuinfo");
  bool cuda_seen = false;
  for (const auto& b : j["backends"]) {
    if (b["name"] != "cuda") continue;
    cuda_seen = true;
    EXPECT_EQ(b["devices"].size(), 2u);
    EXPECT_EQ(b["available"], false);
    EXPECT_EQ(b["hardware_found"], true);
  }
  EXPECT_TRUE(cuda_seen);
}

TEST_F(HwCli, UnreadableProcFilesStillExitZeroWithReasons) {
  setenv("ACCEL_HW_CPUINFO", "/nonexistent", 1);
  setenv("ACCEL_HW_MEMINFO", (std::string(ACCEL_TEST_DATA_DIR) + "/hw/meminfo_garbage.txt").c_str(), 1);
  auto r = test::RunCli("hw");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("cpu:     unknown (/nonexistent: cannot read"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MemTotal"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace accel
