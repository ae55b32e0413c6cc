#include "bench/harness.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "bench/machine_info.h"
#include "core/version.h"

namespace accel::bench {
namespace {

template <typename T>
bool Contains(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

template <typename T, typename Key>
Status CheckKnown(const std::vector<T>& wanted, const std::vector<BenchPoint>& points, Key key, const char* what) {
  std::set<T> known;
  for (const auto& p : points) known.insert(key(p));
  for (const auto& w : wanted) {
    if (known.count(w)) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    return InvalidArgument(std::string("unknown ") + what + " \"" + w + "\" (available: " + list + ")");
  }
  return Status::Ok();
}

// Points that ran the same computation on different devices.
std::string AgreementKey(const BenchPoint& p) {
  return p.model + "|" + p.dtype + "|" + std::to_string(p.batch) + "|" + std::to_string(p.seq_len);
}

struct Finished {
  BenchPoint point;
  std::vector<int64_t> result_ids;
  std::vector<float> sample;
};

}  // namespace

Result<std::vector<BenchPoint>> ExpandMatrix(const WorkloadFactory& factory, const BenchOptions& o) {
  if (o.suite != "quick" && o.suite != "full") return InvalidArgument("unknown suite \"" + o.suite + "\" (quick or full)");
  std::vector<BenchPoint> base;
  if (o.models.empty()) base = factory.DefaultPoints(o.suite);
  for (const auto& m : o.models) {
    std::vector<BenchPoint> points = factory.PointsFor(m);
    if (points.empty()) {
      // Lists the suite's models; PointsFor also takes folders, cached HF ids and .gguf files.
      Status unknown = CheckKnown(std::vector<std::string>{m}, factory.DefaultPoints("full"),
                                  [](const BenchPoint& p) { return p.model; }, "model");
      return unknown.ok() ? NotFound("unknown model \"" + m + "\"") : unknown;
    }
    base.insert(base.end(), points.begin(), points.end());
  }
  ACCEL_RETURN_IF_ERROR(CheckKnown(o.devices, base, [](const BenchPoint& p) { return p.device; }, "device"));
  ACCEL_RETURN_IF_ERROR(CheckKnown(o.dtypes, base, [](const BenchPoint& p) { return p.dtype; }, "dtype"));
  for (int b : o.batch_sizes)
    if (b < 1 || b > 65536) return InvalidArgument("batch size " + std::to_string(b) + " out of range 1..65536");
  for (int s : o.seq_lens)
    if (s < 1 || s > 1 << 20) return InvalidArgument("sequence length " + std::to_string(s) + " out of range");
  if (o.gen_tokens < 0 || o.gen_tokens > 1 << 20)
    return InvalidArgument("new tokens per run " + std::to_string(o.gen_tokens) + " out of range 1..1048576");

  std::vector<BenchPoint> out;
  for (const BenchPoint& p : base) {
    if (!o.devices.empty() && !Contains(o.devices, p.device)) continue;
    if (!o.dtypes.empty() && !Contains(o.dtypes, p.dtype)) continue;
    std::vector<int> batches = o.batch_sizes.empty() ? std::vector<int>{p.batch} : o.batch_sizes;
    std::vector<int> seqs = o.seq_lens.empty() ? std::vector<int>{p.seq_len} : o.seq_lens;
    for (int b : batches)
      for (int s : seqs) {
        BenchPoint q = p;
        q.batch = b;
        q.seq_len = s;
        if (q.gen_tokens > 0 && o.gen_tokens > 0) q.gen_tokens = o.gen_tokens;
        if (!Contains(out, q)) out.push_back(q);
      }
  }
  if (out.empty()) return InvalidArgument("the chosen filters leave no point to run");
  return out;
}

Result<BenchSummary> RunBenchmark(WorkloadFactory& factory, const BenchOptions& o, db::BenchStore& store,
                                  Progress& progress) {
  ACCEL_ASSIGN_OR_RETURN(std::vector<BenchPoint> points, ExpandMatrix(factory, o));
  db::RunRecord run;
  run.uuid = NewRunUuid();
  run.started_at = db::NowIsoUtc();
  run.machine = HostName();
  run.hardware = HardwareSnapshot();
  run.software_version = kVersion;
  run.git_commit = kGitCommit;
  run.suite = o.suite;
  run.command_line = o.command_line;
  BenchSummary summary;
  summary.run_uuid = run.uuid;
  summary.points = static_cast<int>(points.size());
  ACCEL_ASSIGN_OR_RETURN(summary.run_id, store.BeginRun(run));

  std::vector<Finished> finished;
  progress.Start(summary.points);
  for (size_t i = 0; i < points.size(); ++i) {
    const BenchPoint& p = points[i];
    progress.PointStarted(static_cast<int>(i), p.Label());
    PointMeasurement m;
    auto model = factory.DescribeModel(p.model);
    auto device = factory.DescribeDevice(p.device);
    db::ModelRecord model_rec = model.ok() ? *model : db::ModelRecord{p.model, "unknown", "", "", false, std::nullopt};
    db::DeviceRecord device_rec = device.ok() ? *device : db::DeviceRecord{p.device, "", ""};
    if (!model.ok() || !device.ok()) {
      const Status& st = model.ok() ? device.status() : model.status();
      m.results = {FailedRecord(p, model_rec, device_rec, o.measure.scenarios.front(), db::kStatusFailed, st.message())};
    } else if (o.isolate) {
      m = MeasurePointIsolated(factory, p, model_rec, device_rec, o.measure, o.isolation);
    } else {
      m = MeasurePoint(factory, p, model_rec, device_rec, o.measure);
    }
    for (const auto& r : m.results) (r.status == db::kStatusOk ? summary.results_ok : summary.results_failed)++;
    ACCEL_ASSIGN_OR_RETURN(std::vector<int64_t> ids, store.AddResults(summary.run_id, run.machine, m.results));
    progress.PointFinished(static_cast<int>(i), p.Label(), m.results);
    summary.results.insert(summary.results.end(), m.results.begin(), m.results.end());
    bool ok = std::all_of(m.results.begin(), m.results.end(),
                          [](const db::ResultRecord& r) { return r.status == db::kStatusOk; });
    if (ok && !m.output_sample.empty()) finished.push_back({p, ids, m.output_sample});
  }
  progress.Finish();

  // Agreement between devices: each device's output against the first device's (the
  // factory lists its reference device, normally the CPU, first).
  std::map<std::string, std::vector<const Finished*>> groups;
  for (const auto& f : finished) groups[AgreementKey(f.point)].push_back(&f);
  for (const auto& [key, group] : groups) {
    if (group.size() < 2) continue;
    const Finished& ref = *group[0];
    for (size_t g = 1; g < group.size(); ++g) {
      const Finished& other = *group[g];
      double max_diff = 0;
      bool within = ref.sample.size() == other.sample.size();
      for (size_t k = 0; within && k < ref.sample.size(); ++k) {
        double d = std::fabs(double(other.sample[k]) - double(ref.sample[k]));
        max_diff = std::max(max_diff, d);
        if (!(d <= o.agreement_atol + o.agreement_rtol * std::fabs(double(ref.sample[k])))) within = false;
      }
      db::ValidationRecord v{"cross-device", within ? "passed" : "failed", max_diff, "device " + ref.point.device,
                             std::to_string(ref.sample.size()) + " output values compared"};
      summary.agreement_checks++;
      if (!within) summary.agreement_failures++;
      for (int64_t id : other.result_ids) ACCEL_RETURN_IF_ERROR(store.AddValidation(id, v));
    }
  }
  ACCEL_RETURN_IF_ERROR(store.FinishRun(summary.run_id, db::NowIsoUtc()));
  return summary;
}

}  // namespace accel::bench
