#pragma once
// The engine's side of the benchmark seam (bench/workload.h): every supported bundled reference
// model (run on its own reference inputs, validated against its reference outputs) and the
// synthetic-weight models at real shapes (labelled synthetic).
#include <memory>
#include <string>

#include "bench/workload.h"

namespace accel {

// Folder of bundled reference models: $ACCEL_MODELS_DIR, else share/accel/models beside an
// installed binary, else tests/data/models of the checkout a build-tree binary sits in.
std::string BundledModelsDir();

std::unique_ptr<bench::WorkloadFactory> MakeEngineWorkloadFactory();

}  // namespace accel
