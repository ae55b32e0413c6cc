#pragma once
// Deterministic synthetic-weight models at real shapes (benchmarks, `make run`): a config and
// weights generated in-process from a seed, so nothing is downloaded. Results obtained with them
// are labelled synthetic.
#include <string>

#include "formats/hf_config.h"
#include "formats/model_source.h"

namespace accel::synthetic {

struct SyntheticModel {
  HfConfig config;
  WeightStore weights;
};

// "bert-base", "roberta-base", "distilbert-base" (encoders, the BERT template).
std::vector<std::string> Names();
Result<SyntheticModel> Make(const std::string& name, uint64_t seed = 1234);

}  // namespace accel::synthetic
