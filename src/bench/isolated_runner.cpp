#include "bench/isolated_runner.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

#include "db/records_json.h"

namespace accel::bench {
namespace {

using Clock = std::chrono::steady_clock;

int64_t ResidentBytes(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/statm");
  int64_t size = 0, resident = 0;
  if (!(f >> size >> resident)) return 0;
  return resident * sysconf(_SC_PAGESIZE);
}

bool WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += size_t(n);
  }
  return true;
}

// In the child: measure, send JSON, leave without running the parent's exit handlers.
[[noreturn]] void ChildMain(int fd, WorkloadFactory& factory, const BenchPoint& point, const db::ModelRecord& model,
                            const db::DeviceRecord& device, const MeasureOptions& options) {
  PointMeasurement m = MeasurePoint(factory, point, model, device, options);
  nlohmann::json msg = {{"results", nlohmann::json::array()}, {"output_sample", m.output_sample}};
  for (const auto& r : m.results) msg["results"].push_back(db::ToJson(r));
  bool ok = WriteAll(fd, msg.dump());
  close(fd);
  _exit(ok ? 0 : 3);
}

std::string SignalText(int sig) {
  const char* name = sigabbrev_np(sig);
  return "killed by signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "");
}

}  // namespace

PointMeasurement MeasurePointIsolated(WorkloadFactory& factory, const BenchPoint& point, const db::ModelRecord& model,
                                      const db::DeviceRecord& device, const MeasureOptions& options,
                                      const IsolationOptions& iso) {
  PointMeasurement out;
  const std::string scenario = options.scenarios.empty() ? kSingleStream : options.scenarios.front();
  auto failed = [&](const std::string& status, const std::string& error, int64_t rss, double wall_s) {
    db::ResultRecord r = FailedRecord(point, model, device, scenario, status, error);
    if (rss > 0) r.peak_rss_bytes = rss;
    r.wall_s = wall_s;
    out.results = {std::move(r)};
    return out;
  };

  int fds[2];
  if (pipe(fds) != 0) return failed(db::kStatusFailed, std::string("pipe: ") + std::strerror(errno), 0, 0);
  std::fflush(nullptr);  // the child must not replay buffered output
  auto start = Clock::now();
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return failed(db::kStatusFailed, std::string("fork: ") + std::strerror(errno), 0, 0);
  }
  if (pid == 0) {
    // The worker dies with the bench process (kill -9 included) instead of running on under init.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(4);  // the parent died before prctl took effect
    close(fds[0]);
    ChildMain(fds[1], factory, point, model, device, options);
  }
  close(fds[1]);

  std::string data;
  std::string killed_status, killed_error;
  int64_t max_rss = 0;
  char buf[65536];
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    int pr = poll(&p, 1, 20);
    if (pr < 0 && errno != EINTR) break;
    if (pr > 0) {
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n > 0) {
        data.append(buf, size_t(n));
        continue;
      }
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;  // EOF: the child is done
    }
    int64_t rss = ResidentBytes(pid);
    max_rss = std::max(max_rss, rss);
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (iso.memory_limit_bytes > 0 && rss > iso.memory_limit_bytes) {
      killed_status = db::kStatusOom;
      killed_error = "resident memory " + std::to_string(rss >> 20) + " MiB exceeded the limit of " +
                     std::to_string(iso.memory_limit_bytes >> 20) + " MiB";
    } else if (elapsed > iso.timeout_s) {
      killed_status = db::kStatusTimeout;
      killed_error = "exceeded the point time limit of " + std::to_string(int(iso.timeout_s)) + " s";
    }
    if (!killed_status.empty()) {
      kill(pid, SIGKILL);
      break;
    }
  }
  close(fds[0]);
  int wstatus = 0;
  rusage usage{};
  while (wait4(pid, &wstatus, 0, &usage) < 0 && errno == EINTR) {
  }
  double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  max_rss = std::max<int64_t>(max_rss, int64_t(usage.ru_maxrss) * 1024);

  if (!killed_status.empty()) return failed(killed_status, killed_error, max_rss, wall_s);
  if (WIFSIGNALED(wstatus)) {
    int sig = WTERMSIG(wstatus);
    if (sig == SIGKILL)  // not ours: most likely the kernel's out-of-memory killer
      return failed(db::kStatusOom, SignalText(sig) + ", likely out of memory", max_rss, wall_s);
    return failed(db::kStatusCrashed, SignalText(sig), max_rss, wall_s);
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
    return failed(db::kStatusCrashed, "benchmark child exited with status " + std::to_string(WEXITSTATUS(wstatus)),
                  max_rss, wall_s);

  auto msg = nlohmann::json::parse(data, nullptr, false);
  if (msg.is_discarded() || !msg.is_object() || !msg.contains("results") || !msg["results"].is_array())
    return failed(db::kStatusCrashed, "benchmark child sent no readable result", max_rss, wall_s);
  for (size_t i = 0; i < msg["results"].size(); ++i) {
    auto r = db::ResultFromJson(msg["results"][i], "child result");
    if (!r.ok()) return failed(db::kStatusCrashed, r.status().message(), max_rss, wall_s);
    out.results.push_back(std::move(r).value());
  }
  if (msg.contains("output_sample") && msg["output_sample"].is_array())
    for (const auto& x : msg["output_sample"])
      if (x.is_number()) out.output_sample.push_back(x.get<float>());
  return out;
}

}  // namespace accel::bench
