#pragma once
// Named workload factories. The engine adds itself with one line in any linked .cpp:
//   static accel::bench::WorkloadFactoryRegistrar reg("engine", 100, [] { return std::make_unique<MyFactory>(); });
// `accel bench` uses --factory NAME, or else the registered factory with the highest
// priority. The built-in "selftest" factory (priority 0) is always present.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/workload.h"
#include "core/status.h"

namespace accel::bench {

using WorkloadFactoryMaker = std::function<std::unique_ptr<WorkloadFactory>()>;

void RegisterWorkloadFactory(const std::string& name, int priority, WorkloadFactoryMaker make);
// Names, highest priority first.
std::vector<std::string> WorkloadFactoryNames();
// `name` empty: the highest-priority factory.
Result<std::unique_ptr<WorkloadFactory>> MakeWorkloadFactory(const std::string& name);

struct WorkloadFactoryRegistrar {
  WorkloadFactoryRegistrar(const std::string& name, int priority, WorkloadFactoryMaker make) {
    RegisterWorkloadFactory(name, priority, std::move(make));
  }
};

}  // namespace accel::bench
