#pragma once
// The built-in "selftest" workloads: real work with a known answer, so the harness, the
// database and the report can be exercised (and `accel bench` gives numbers) on any machine
// before or without the inference engine.
//   matmul-N      naive N x N x N single-precision matrix products, `batch` of them per run,
//                 validated against a double-precision recomputation
//   fault-crash   aborts in its first run              (the harness records "crashed")
//   fault-hang    never finishes a run                 ("timeout")
//   fault-oom     allocates without bound              ("oom" under --memory-limit-mb)
//   fault-error   returns an error from its first run  ("failed")
//   fault-load    fails to load                        ("failed")
// Fault models only run when named with --models; no suite includes them.
#include <memory>

#include "bench/workload.h"

namespace accel::bench {

inline constexpr const char* kSelftestFactoryName = "selftest";
std::unique_ptr<WorkloadFactory> MakeSelftestFactory();

}  // namespace accel::bench
