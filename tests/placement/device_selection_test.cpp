// Device selection on hand-built hardware reports (so the ranking logic is tested for machines
// and backends we do not have), with an in-memory benchmark history.
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "placement/device_selection.h"
#include "test_util.h"

namespace accel {
namespace {

ModelProfile Llama() {
  auto ev = registry::GatherEvidence(test::DataDir() + "/registry/configs/llama-tiny-gqa.json");
  EXPECT_TRUE(ev.ok());
  auto p = ModelProfile::FromEvidence(*ev);
  EXPECT_TRUE(p.ok());
  return *p;
}

hw::HwReport Machine(bool amx, bool with_gpu_backend) {
  hw::HwReport r;
  r.cpu.isa = amx ? std::vector<std::string>{"avx2", "avx512f", "avx512_bf16", "amx_bf16"} : std::vector<std::string>{"avx2"};
  r.memory = {16LL << 30, 12LL << 30};
  hw::BackendReport cpu;
  cpu.name = "cpu";
  cpu.available = cpu.hardware_found = cpu.engine_backend_built = true;
  cpu.devices.push_back({"Test CPU", "cpu", 16LL << 30, 12LL << 30, "", ""});
  r.backends.push_back(cpu);
  hw::BackendReport gpu;
  gpu.name = "cuda";
  gpu.hardware_found = true;
  gpu.engine_backend_built = with_gpu_backend;
  gpu.available = with_gpu_backend;
  gpu.reason = with_gpu_backend ? "ready" : "engine backend not built (1 device(s) detected)";
  gpu.devices.push_back({"Test GPU", "gpu", 24LL << 30, 20LL << 30, "8.6", ""});
  r.backends.push_back(gpu);
  return r;
}

const Candidate* Find(const Selection& s, const std::string& backend, const std::string& dtype) {
  for (const auto& c : s.candidates)
    if (c.backend == backend && c.dtype == dtype) return &c;
  return nullptr;
}

TEST(DeviceSelection, RulesPreferNative16BitOnAnAmxCpuAndExplain) {
  auto sel = SelectDevice(Llama(), {1, 64}, Machine(true, false), nullptr, {});
  ASSERT_TRUE(sel.ok()) << sel.status().message();
  ASSERT_NE(sel->best(), nullptr);
  EXPECT_EQ(sel->best()->backend, "cpu");
  EXPECT_EQ(sel->best()->dtype, "bf16");
  EXPECT_EQ(sel->best()->method, "rules");
  EXPECT_NE(sel->best()->reason.find("AMX"), std::string::npos);
  EXPECT_EQ(Find(*sel, "cpu", "f32")->rank, 2);
  EXPECT_EQ(Find(*sel, "cpu", "q4_0")->rank, 4);
  const Candidate* gpu = Find(*sel, "cuda", "f16");
  ASSERT_NE(gpu, nullptr);
  EXPECT_FALSE(gpu->compatible);
  EXPECT_NE(gpu->why_not.find("engine backend not built"), std::string::npos);
  EXPECT_TRUE(sel->notes.empty());  // llama is supported by the engine: no caveat to report
  auto plain = SelectDevice(Llama(), {1, 64}, Machine(false, false), nullptr, {});
  EXPECT_EQ(plain->best()->dtype, "f32");
  EXPECT_EQ(Find(*plain, "cpu", "bf16"), nullptr);  // no bf16 without hardware support
}

TEST(DeviceSelection, AcceleratorsFirstWhenTheirBackendIsBuilt) {
  auto sel = SelectDevice(Llama(), {1, 64}, Machine(false, true), nullptr, {});
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->best()->backend, "cuda");
  EXPECT_NE(Find(*sel, "cuda", "bf16"), nullptr);  // compute capability 8.6 >= 8.0
}

TEST(DeviceSelection, MemoryFitComesFirst) {
  SelectionOptions o;
  o.memory_limit_bytes = 450 * 1024;  // only the quantized variants fit
  auto sel = SelectDevice(Llama(), {1, 64}, Machine(true, false), nullptr, o);
  ASSERT_TRUE(sel.ok());
  ASSERT_NE(sel->best(), nullptr);
  EXPECT_EQ(sel->best()->dtype, "q8_0");
  const Candidate* f32 = Find(*sel, "cpu", "f32");
  EXPECT_FALSE(f32->compatible);
  EXPECT_NE(f32->why_not.find("model needs"), std::string::npos) << f32->why_not;
  o.memory_limit_bytes = 1024;
  auto none = SelectDevice(Llama(), {1, 64}, Machine(true, false), nullptr, o);
  EXPECT_EQ(none->best(), nullptr);
}

TEST(DeviceSelection, MeasuredHistoryOutranksRules) {
  ModelProfile m = Llama();
  InMemoryPerfHistory h;
  for (double ms : {5.0, 6.0, 7.0}) h.Add({m.name, "text-generation", "cpu", "Test CPU", "f32", 1, 64, 1e9, 5e5, ms});
  h.Add({m.name, "text-generation", "cpu", "Other CPU", "bf16", 1, 64, 1e9, 5e5, 1.0});  // another machine: ignored
  auto sel = SelectDevice(m, {1, 64}, Machine(true, false), &h, {});
  ASSERT_TRUE(sel.ok());
  EXPECT_EQ(sel->best()->dtype, "f32");
  EXPECT_EQ(sel->best()->method, "measured");
  EXPECT_DOUBLE_EQ(sel->best()->predicted_ms, 6.0);
  EXPECT_DOUBLE_EQ(sel->best()->error_ms, 1.0);
  EXPECT_EQ(Find(*sel, "cpu", "bf16")->method, "rules");
}

TEST(DeviceSelection, FitPredictsFromSimilarModels) {
  ModelProfile m = Llama();
  InMemoryPerfHistory h;
  // Other decoders on this CPU at f32: latency = 2 ms/GFLOP + 3 ms/GB + 1 ms exactly.
  double pts[][2] = {{1e9, 1e8}, {4e9, 5e8}, {9e9, 2e9}, {2e10, 1e9}, {5e9, 4e9}};
  for (auto& p : pts)
    h.Add({"other", "text-generation", "cpu", "Test CPU", "f32", 1, 128, p[0], p[1], 2 * p[0] / 1e9 + 3 * p[1] / 1e9 + 1});
  auto sel = SelectDevice(m, {4, 64}, Machine(false, false), &h, {});
  ASSERT_TRUE(sel.ok());
  const Candidate* f32 = Find(*sel, "cpu", "f32");
  ASSERT_EQ(f32->method, "fit");
  EXPECT_EQ(f32->fit.basis, "same family (text-generation)");
  EXPECT_NEAR(f32->fit.ms_per_gflop, 2.0, 1e-6);
  EXPECT_NEAR(f32->fit.ms_per_gb, 3.0, 1e-6);
  EXPECT_NEAR(f32->fit.intercept_ms, 1.0, 1e-6);
  EXPECT_LT(f32->fit.relative_rms_error, 1e-6);
  double expect = 2 * f32->memory.flops / 1e9 + 3 * f32->memory.weights_bytes / 1e9 + 1;
  EXPECT_NEAR(f32->predicted_ms, expect, 1e-6);
  EXPECT_NE(f32->reason.find("5 benchmark(s)"), std::string::npos) << f32->reason;
  EXPECT_EQ(sel->best()->method, "fit");  // a prediction outranks rules
}

TEST(LatencyFit, FewSamplesFitThroughTheOriginAndReportError) {
  std::vector<PerfSample> s = {{"m", "", "cpu", "d", "f32", 1, 1, 1e9, 0, 10}, {"m", "", "cpu", "d", "f32", 1, 1, 2e9, 0, 22}};
  LatencyFit fit = FitLatency(s, "same model");
  EXPECT_EQ(fit.samples, 2);
  EXPECT_EQ(fit.intercept_ms, 0);
  EXPECT_NEAR(fit.ms_per_gflop, 54.0 / 5.0, 1e-9);  // least squares through the origin
  EXPECT_GT(fit.relative_rms_error, 0.0);
  // Collinear FLOPs and bytes: the full system is singular, the 1-parameter fit still works.
  std::vector<PerfSample> lin;
  for (int i = 1; i <= 5; ++i) lin.push_back({"m", "", "cpu", "d", "f32", 1, 1, i * 1e9, i * 1e9, 4.0 * i});
  LatencyFit f2 = FitLatency(lin, "x");
  EXPECT_NEAR(PredictMs(f2, 6e9, 6e9), 24.0, 1e-6);
  std::vector<PerfSample> zero = {{"m", "", "cpu", "d", "f32", 1, 1, 0, 0, 3}};
  EXPECT_EQ(FitLatency(zero, "x").samples, 0);
}

TEST(PerfHistoryFile, LoadsJsonLinesAndRejectsBadLines) {
  std::string dir = test::MakeTempDir("history");
  std::ofstream(dir + "/ok.jsonl") << R"({"model":"m","backend":"cpu","device":"d","dtype":"f32","flops":1e9,"latency_ms":3})"
                                   << "\n\n"
                                   << R"({"model":"m","backend":"cpu","device":"d","dtype":"bf16","flops":2e9,"latency_ms":2,"batch":4})"
                                   << "\n";
  auto h = InMemoryPerfHistory::LoadJsonLines(dir + "/ok.jsonl");
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ((*h)->Samples("cpu", "f32").size(), 1u);
  EXPECT_EQ((*h)->Samples("cpu", "bf16")[0].batch, 4);
  std::ofstream(dir + "/bad.jsonl") << R"({"backend":"cpu","dtype":"f32","flops":1})" << "\n";
  auto bad = InMemoryPerfHistory::LoadJsonLines(dir + "/bad.jsonl");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.jsonl:1: missing 'latency_ms'"), std::string::npos) << bad.status().message();
  std::ofstream(dir + "/neg.jsonl") << R"({"backend":"cpu","dtype":"f32","flops":1,"latency_ms":-4})" << "\n";
  EXPECT_FALSE(InMemoryPerfHistory::LoadJsonLines(dir + "/neg.jsonl").ok());
  EXPECT_FALSE(InMemoryPerfHistory::LoadJsonLines(dir + "/missing.jsonl").ok());
}

TEST(SelectCli, RanksWithReasonsAndUsesHistory) {
  setenv("ACCEL_HW_CUDA_LIB", ACCEL_FAKE_CUDA_LIB, 1);
  setenv("ACCEL_HW_NVML_LIB", ACCEL_FAKE_NVML_LIB, 1);
  std::string config = test::DataDir() + "/registry/configs/llama-tiny-gqa.json";
  auto r = test::RunCli("select " + config + " --seq 64 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["candidates"][0]["rank"], 1);
  EXPECT_EQ(j["candidates"][0]["backend"], "cpu");
  bool fake_gpu_listed = false;
  for (const auto& c : j["candidates"])
    if (c["device"] == "NVIDIA H100 80GB HBM3") {
      fake_gpu_listed = true;
      EXPECT_EQ(c["compatible"], false);
    }
  EXPECT_TRUE(fake_gpu_listed);
  unsetenv("ACCEL_HW_CUDA_LIB");
  unsetenv("ACCEL_HW_NVML_LIB");

  // History for this machine's CPU, as `accel hw` names it.
  auto hwj = nlohmann::json::parse(test::RunCli("hw --json").out);
  std::string cpu = hwj["backends"][0]["devices"][0]["name"];
  std::string dir = test::MakeTempDir("select");
  std::ofstream(dir + "/h.jsonl") << nlohmann::json{{"model", config}, {"backend", "cpu"}, {"device", cpu},
                                                    {"dtype", "q4_0"}, {"batch", 1}, {"seq", 64}, {"flops", 1e6},
                                                    {"latency_ms", 0.5}}.dump() << "\n";
  auto h = test::RunCli("select " + config + " --seq 64 --history " + dir + "/h.jsonl");
  ASSERT_EQ(h.exit_code, 0) << h.out;
  EXPECT_NE(h.out.find("#1  cpu      q4_0"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("measured 1 time(s)"), std::string::npos) << h.out;

  auto tiny = test::RunCli("select " + config + " --memory-limit 1K");
  EXPECT_EQ(tiny.exit_code, 1) << tiny.out;
  EXPECT_NE(tiny.out.find("no device can run this model"), std::string::npos);
  auto bad = test::RunCli("select " + config + " --memory-limit lots");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("accel: --memory-limit"), std::string::npos) << bad.out;
  EXPECT_EQ(test::RunCli("select /nonexistent").exit_code, 2);
}

}  // namespace
}  // namespace accel
