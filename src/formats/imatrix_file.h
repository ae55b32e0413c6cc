#pragma once
// Importance matrices (`accel imatrix`, read by `accel quantize --imatrix`): for every Linear
// weight of a model, the mean over calibration tokens of each input column's squared activation,
// E[x_j^2] (what llama.cpp's imatrix holds). Quantizing column j of a weight wrong costs the
// layer's output about E[x_j^2] * error_j^2, so these are the weights of the per-block search.
//
// On disk: a GGUF file (formats/gguf.h) with
//   general.type           string  "imatrix"
//   imatrix.chunk_count    u32     calibration chunks the means are over (> 0)
//   imatrix.chunk_size     u32     tokens per chunk (--ctx)
//   imatrix.dataset        string  the calibration file's name (information only)
// and one f32 tensor [in_features] per weight, named as the checkpoint names it
// ("model.layers.0.mlp.down_proj.weight"); every value finite and >= 0.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "formats/gguf.h"

namespace accel {

struct Imatrix {
  std::map<std::string, std::vector<float>> values;  // weight name -> E[x_j^2] per input column
  int64_t chunk_count = 0;
  int64_t chunk_size = 0;
  std::string dataset;
};

Status WriteImatrix(const std::string& path, const Imatrix& m);
// Checks the file's type, the keys above and every tensor; the message names the file and the
// offending tensor or key.
Result<Imatrix> ReadImatrix(const std::string& path);
// The same checks on a parsed GGUF (the fuzz target feeds it arbitrary files).
Result<Imatrix> ImatrixFromGguf(const GgufFile& f);

}  // namespace accel
