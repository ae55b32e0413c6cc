#pragma once
// `accel verify`: run a fixture folder's model on its stored inputs and compare every output
// with the reference within the tolerances its reference.json states.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tensor.h"
#include "runtime/loaded_model.h"

namespace accel {

struct OutputCheck {
  std::string name;       // "output.last_hidden_state"
  Shape expected_shape, got_shape;
  double max_abs_diff = 0, max_rel_diff = 0;
  double atol = 0, rtol = 0;
  bool exact = false;
  size_t mismatches = 0;  // elements outside tolerance
  bool ok = false;
  std::string error;      // why it could not be compared (missing output, shape mismatch)
};

struct VerifyReport {
  std::string fixture;
  std::string architecture, model_type, device;
  std::vector<OutputCheck> checks;
  double load_ms = 0, run_ms = 0;
  ExecStats exec;  // ops that fell back to the CPU and the copies they made
  bool ok() const;
};

// Errors (non-ok Result) mean the fixture could not be used at all: exit code 2.
Result<VerifyReport> VerifyFixture(const std::string& dir, const LoadOptions& options);

// Elementwise |got - ref| <= atol + rtol * |ref| (exact: equality), filling the check's stats.
void CompareTensors(const Tensor& got, const Tensor& ref, OutputCheck& check);

// The report as `accel verify --json` prints it (one fixture).
nlohmann::json ToJson(const VerifyReport& report);

}  // namespace accel
