#include "bench/workload_registry.h"

#include <algorithm>
#include <mutex>

#include "bench/selftest_factory.h"

namespace accel::bench {
namespace {

struct Entry {
  std::string name;
  int priority;
  WorkloadFactoryMaker make;
};

struct Registry {
  std::mutex mu;
  std::vector<Entry> entries;
};

Registry& GetRegistry() {
  // Built-ins are added here rather than by static registrars in their own files, which a
  // static library link could drop.
  static Registry* registry = [] {
    auto* r = new Registry;
    r->entries.push_back({kSelftestFactoryName, 0, [] { return MakeSelftestFactory(); }});
    return r;
  }();
  return *registry;
}

}  // namespace

std::string BenchPoint::Label() const {
  return model + " " + device + " " + dtype + " b" + std::to_string(batch) + " s" + std::to_string(seq_len) +
         (gen_tokens > 0 ? " n" + std::to_string(gen_tokens) : "");
}

std::vector<BenchPoint> WorkloadFactory::PointsFor(const std::string& model) const {
  std::vector<BenchPoint> out;
  const std::vector<BenchPoint> full = DefaultPoints("full");
  for (const auto& p : full)
    if (p.model == model) out.push_back(p);
  if (out.empty() && DescribeModel(model).ok()) {
    BenchPoint p;
    p.model = model;
    p.device = full.empty() ? "cpu" : full.front().device;
    out.push_back(p);
  }
  return out;
}

void RegisterWorkloadFactory(const std::string& name, int priority, WorkloadFactoryMaker make) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = std::find_if(r.entries.begin(), r.entries.end(), [&](const Entry& e) { return e.name == name; });
  if (it != r.entries.end()) *it = {name, priority, std::move(make)};
  else r.entries.push_back({name, priority, std::move(make)});
  std::stable_sort(r.entries.begin(), r.entries.end(),
                   [](const Entry& a, const Entry& b) { return a.priority > b.priority; });
}

std::vector<std::string> WorkloadFactoryNames() {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> names;
  for (const auto& e : r.entries) names.push_back(e.name);
  return names;
}

Result<std::unique_ptr<WorkloadFactory>> MakeWorkloadFactory(const std::string& name) {
  Registry& r = GetRegistry();
  WorkloadFactoryMaker make;
  std::string known;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    for (const auto& e : r.entries) {
      if (!make && (name.empty() || e.name == name)) make = e.make;
      known += (known.empty() ? "" : ", ") + e.name;
    }
  }
  if (!make) return NotFound("unknown workload factory \"" + name + "\" (known: " + known + ")");
  auto factory = make();
  if (!factory) return Internal("workload factory \"" + name + "\" returned nothing");
  return factory;
}

}  // namespace accel::bench
