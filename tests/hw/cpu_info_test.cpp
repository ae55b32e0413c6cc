// /proc/cpuinfo, /proc/meminfo and sysfs cache parsing against fixture files of machines we
// do not have (dual-socket AMX Xeon, ARM Neoverse with SVE) and of this one.
#include <gtest/gtest.h>

#include "core/mapped_file.h"
#include "hw/cpu_info.h"
#include "hw/memory_info.h"
#include "hw/numa_topology.h"
#include "test_util.h"

namespace accel::hw {
namespace {

std::string Fixture(const std::string& name) { return test::DataDir() + "/hw/" + name; }

Result<CpuInfo> ParseFixture(const std::string& name) {
  auto text = ReadFileToString(Fixture(name));
  EXPECT_TRUE(text.ok()) << name;
  return ParseCpuInfo(*text, name);
}

TEST(CpuInfo, DualSocketXeonCountsSocketsCoresThreadsAndAmx) {
  auto info = ParseFixture("cpuinfo_xeon_2s_amx.txt");
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->vendor, "GenuineIntel");
  EXPECT_EQ(info->model, "Intel(R) Xeon(R) Platinum 8480+");
  EXPECT_EQ(info->arch, "x86_64");
  EXPECT_EQ(info->sockets, 2);
  EXPECT_EQ(info->physical_cores, 4);
  EXPECT_EQ(info->threads, 8);
  for (const char* ext : {"sse4.2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16",
                          "avx512_fp16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8"})
    EXPECT_TRUE(info->Has(ext)) << ext;
  EXPECT_FALSE(info->Has("neon"));
  EXPECT_EQ(info->isa_source, "cpuinfo");
}

TEST(CpuInfo, ArmNeoverseReportsNeonSveAndImplementer) {
  auto info = ParseFixture("cpuinfo_arm_neoverse_v2.txt");
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->arch, "aarch64");
  EXPECT_EQ(info->vendor, "ARM");
  EXPECT_EQ(info->threads, 4);
  EXPECT_EQ(info->physical_cores, 4);  // no core ids on ARM: one thread per core
  for (const char* ext : {"neon", "fp16", "dotprod", "i8mm", "bf16", "sve", "sve2"}) EXPECT_TRUE(info->Has(ext)) << ext;
  EXPECT_FALSE(info->Has("avx2"));
}

TEST(CpuInfo, ThisMachinesCapturedCpuinfo) {
  auto info = ParseFixture("cpuinfo_amd_epyc_2t.txt");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->vendor, "AuthenticAMD");
  EXPECT_EQ(info->threads, 2);
  EXPECT_TRUE(info->Has("avx512f"));
  EXPECT_FALSE(info->Has("amx_tile"));
}

TEST(CpuInfo, GarbageIsAClearError) {
  auto info = ParseFixture("cpuinfo_garbage.txt");
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("no 'processor' entries"), std::string::npos);
  EXPECT_FALSE(ParseCpuInfo("", "empty").ok());
}

TEST(CpuInfo, UnreadableFileNamesThePath) {
  HwSources s;
  s.cpuinfo_path = "/nonexistent/cpuinfo";
  s.live_cpu = false;
  auto info = DetectCpu(s);
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("/nonexistent/cpuinfo"), std::string::npos);
}

TEST(CpuInfo, LiveDetectionUsesCpuidOnX86) {
  auto info = DetectCpu(HwSources{});
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_GE(info->threads, 1);
#if defined(__x86_64__)
  EXPECT_EQ(info->isa_source, "cpuid");
#endif
}

TEST(Caches, ReadsFixtureSysfs) {
  auto caches = ReadCaches(Fixture("sysfs_cpu"));
  ASSERT_EQ(caches.size(), 3u);
  EXPECT_EQ(caches[0].level, 1);
  EXPECT_EQ(caches[0].type, "Data");
  EXPECT_EQ(caches[0].size_bytes, 48 * 1024);
  EXPECT_EQ(caches[0].shared_by_threads, 2);
  EXPECT_EQ(caches[2].size_bytes, 105LL * 1024 * 1024);
  EXPECT_EQ(caches[2].shared_by_threads, 112);
  EXPECT_TRUE(ReadCaches("/nonexistent").empty());
}

TEST(Caches, SizeParsing) {
  EXPECT_EQ(ParseCacheSize("32K"), 32768);
  EXPECT_EQ(ParseCacheSize("2M\n"), 2 * 1024 * 1024);
  EXPECT_EQ(ParseCacheSize("512"), 512);
  EXPECT_EQ(ParseCacheSize("K"), -1);
  EXPECT_EQ(ParseCacheSize("-4K"), -1);
  EXPECT_EQ(ParseCacheSize("99999999999999999K"), -1);
}

TEST(Meminfo, ModernAndOldKernels) {
  auto host = ReadFileToString(Fixture("meminfo_host.txt"));
  auto m = ParseMeminfo(*host, "host");
  ASSERT_TRUE(m.ok());
  EXPECT_GT(m->total_bytes, 0);
  EXPECT_LE(m->available_bytes, m->total_bytes);
  auto old = ReadFileToString(Fixture("meminfo_old_kernel.txt"));
  auto o = ParseMeminfo(*old, "old");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->total_bytes, 8000000LL * 1024);
  EXPECT_EQ(o->available_bytes, 3100000LL * 1024);  // MemFree + Cached + Buffers
}

TEST(Meminfo, NegativeOrAbsurdValuesAreRejected) {
  auto bad = ReadFileToString(Fixture("meminfo_garbage.txt"));
  auto m = ParseMeminfo(*bad, "meminfo_garbage.txt");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("MemTotal"), std::string::npos);
}

TEST(Numa, SyntheticTwoNodeTopology) {
  HwSources s;
  s.numa_synthetic = "package:2 numa:1 core:4 pu:2";
  NumaTopology t = DetectNuma(s);
  if (t.source.rfind("unavailable: built without", 0) == 0) GTEST_SKIP() << t.source;
  ASSERT_EQ(t.source.rfind("hwloc synthetic", 0), 0u) << t.source;
  EXPECT_EQ(t.packages, 2);
  EXPECT_EQ(t.cores, 8);
  EXPECT_EQ(t.threads, 16);
  ASSERT_EQ(t.nodes.size(), 2u);
  EXPECT_EQ(t.nodes[0].cores, 4);
  EXPECT_EQ(t.nodes[1].threads, 8);
}

TEST(Numa, BadSyntheticStringIsReportedNotFatal) {
  HwSources s;
  s.numa_synthetic = "bogus:zz";
  NumaTopology t = DetectNuma(s);
  EXPECT_EQ(t.source.rfind("unavailable", 0), 0u);
  EXPECT_TRUE(t.nodes.empty());
}

}  // namespace
}  // namespace accel::hw
