#pragma once
// NUMA nodes and which cores belong to each, from hwloc (the same library MPI and oneDNN use
// for this). Tests give hwloc a synthetic topology string instead of this machine.
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "hw/hw_sources.h"

namespace accel::hw {

struct NumaNode {
  int index = 0;
  int64_t memory_bytes = 0;  // 0 when hwloc does not know (synthetic, some VMs)
  int cores = 0;
  int threads = 0;
};

struct NumaTopology {
  std::string source;  // "hwloc", "hwloc synthetic: ...", or "unavailable: <why>"
  int packages = 0;
  int cores = 0;
  int threads = 0;
  std::vector<NumaNode> nodes;
};

// Never fails: a machine hwloc cannot read is reported with source "unavailable: ...".
NumaTopology DetectNuma(const HwSources& sources);

}  // namespace accel::hw
