#include "hw/numa_topology.h"

#if defined(ACCEL_HAVE_HWLOC)
#include <hwloc.h>
#endif

namespace accel::hw {

#if defined(ACCEL_HAVE_HWLOC)
namespace {
int CountInside(hwloc_topology_t topo, hwloc_const_cpuset_t set, hwloc_obj_type_t type) {
  return hwloc_get_nbobjs_inside_cpuset_by_type(topo, set, type);
}
}  // namespace

NumaTopology DetectNuma(const HwSources& sources) {
  NumaTopology out;
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) != 0) {
    out.source = "unavailable: hwloc_topology_init failed";
    return out;
  }
  if (!sources.numa_synthetic.empty() && hwloc_topology_set_synthetic(topo, sources.numa_synthetic.c_str()) != 0) {
    hwloc_topology_destroy(topo);
    out.source = "unavailable: hwloc rejected synthetic topology '" + sources.numa_synthetic + "'";
    return out;
  }
  if (hwloc_topology_load(topo) != 0) {
    hwloc_topology_destroy(topo);
    out.source = "unavailable: hwloc_topology_load failed";
    return out;
  }
  out.source = sources.numa_synthetic.empty() ? "hwloc" : "hwloc synthetic: " + sources.numa_synthetic;
  out.packages = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
  out.cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
  out.threads = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
  int n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
  for (int i = 0; i < n; ++i) {
    hwloc_obj_t node = hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, i);
    NumaNode nn;
    nn.index = static_cast<int>(node->os_index);
    nn.memory_bytes = node->attr ? static_cast<int64_t>(node->attr->numanode.local_memory) : 0;
    nn.cores = CountInside(topo, node->cpuset, HWLOC_OBJ_CORE);
    nn.threads = CountInside(topo, node->cpuset, HWLOC_OBJ_PU);
    out.nodes.push_back(nn);
  }
  hwloc_topology_destroy(topo);
  return out;
}
#else
NumaTopology DetectNuma(const HwSources&) {
  NumaTopology out;
  out.source = "unavailable: built without hwloc (install libhwloc-dev)";
  return out;
}
#endif

}  // namespace accel::hw
