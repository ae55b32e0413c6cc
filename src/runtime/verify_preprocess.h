#pragma once
// `accel verify` on preprocessing fixture folders (reference.json with a `processor` key):
// decode the raw input file named there, run the pipeline preprocessor_config.json describes,
// compare output.* and intermediate.* with reference.safetensors.
#include <nlohmann/json.hpp>

#include "runtime/verify.h"

namespace accel {

Result<VerifyReport> VerifyPreprocessFixture(const std::string& dir, const nlohmann::json& spec);

}  // namespace accel
