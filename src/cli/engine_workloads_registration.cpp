// Registers the engine with `accel bench`. It lives in the executable, not libaccel: a static
// registrar in a static library is dropped by the linker when nothing else references its file.
#include "bench/workload_registry.h"
#include "bench/engine_workloads.h"

namespace {
accel::bench::WorkloadFactoryRegistrar engine_registration("engine", 100, [] { return accel::MakeEngineWorkloadFactory(); });
}  // namespace
