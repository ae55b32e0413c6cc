#pragma once
// Test helper: the llama-tiny fixture written as a GGUF file the way llama.cpp's converter lays
// it out (q/k rows permuted for adjacent-pair RoPE), optionally with extra metadata.
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "formats/gguf.h"
#include "formats/gguf_model.h"
#include "formats/gguf_writer.h"
#include "formats/hf_config.h"
#include "formats/model_source.h"
#include "formats/quant.h"
#include "test_util.h"

namespace accel::test_gguf {

template <typename T>
T MustOk(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(*r);
}

// Writes llama-tiny as GGUF with its projections in `dtype` (formats/gguf_model's exporter);
// with `dequantize_back` the quantized projections are stored as their f32 values.
inline std::string WriteLlamaTinyGguf(DType dtype, bool dequantize_back = false,
                                      const std::vector<std::pair<std::string, nlohmann::json>>& extra_metadata = {}) {
  const std::string dir = test::ModelDir("llama-tiny");
  HfConfig config = MustOk(HfConfig::Load(dir + "/config.json"));
  WeightStore weights = MustOk(WeightStore::Open(dir));
  GgufExportOptions o;
  o.weight_dtype = dtype;
  o.extra_metadata = extra_metadata;
  const std::string path = test::MakeTempDir("gguf") + "/llama-tiny-" + std::string(Name(dtype)) + ".gguf";
  Status s = WriteLlamaGguf(path, config, weights, o);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!dequantize_back) return path;
  // Same file with every quantized tensor replaced by its dequantized f32 values.
  auto file = MustOk(GgufFile::Open(path));
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, info] : file->tensors()) tensors.emplace_back(name, MustOk(quant::ToF32(MustOk(file->Get(name)))));
  std::vector<std::pair<std::string, nlohmann::json>> md;
  for (const auto& [key, value] : file->metadata().items()) md.emplace_back(key, value);
  const std::string f32_path = path + ".f32.gguf";
  EXPECT_TRUE(WriteGguf(f32_path, md, tensors, {"general.alignment"}).ok());
  return f32_path;
}

}  // namespace accel::test_gguf
