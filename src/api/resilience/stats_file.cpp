#include "api/resilience/stats_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/bounded_read.h"

namespace accel::api {
namespace {

constexpr size_t kMaxStatsBytes = 64 * kMiB;

class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) {}
  ~FileLock() {
    if (fd_ >= 0) {
      ::flock(fd_, LOCK_UN);
      ::close(fd_);
    }
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(path + ": write failed: " + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Status LoadStatsFile(const std::string& path, ApiStats* out) {
  auto text = ReadRegularFile(path, kMaxStatsBytes, "stats file");
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return Status::Ok();
    return text.status().WithContext("stats file (ACCEL_API_STATS)");
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Corrupt("stats file " + path + " is not JSON");
  return out->MergeJson(j);
}

Status MergeStatsIntoFile(const std::string& path, const ApiStats& stats) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (fs::exists(path, ec) && !fs::is_regular_file(path, ec)) {
    return InvalidArgument(path + ": stats file (ACCEL_API_STATS) is not a regular file");
  }
  const std::string lock_path = path + ".lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
  if (lock_fd < 0) return IoError(lock_path + ": " + std::strerror(errno));
  FileLock lock(lock_fd);
  while (::flock(lock_fd, LOCK_EX) != 0) {
    if (errno != EINTR) return IoError(lock_path + ": flock failed: " + std::strerror(errno));
  }
  ApiStats merged;
  auto text = ReadRegularFile(path, kMaxStatsBytes, "stats file");
  if (text.ok()) {
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_discarded()) (void)merged.MergeJson(j);  // a corrupt file is replaced
  } else if (text.status().code() != StatusCode::kNotFound) {
    return text.status();
  }
  ACCEL_RETURN_IF_ERROR(merged.MergeJson(stats.ToJson()));
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError(tmp + ": " + std::strerror(errno));
  Status st = WriteAll(fd, merged.ToJson().dump(), tmp);
  if (::close(fd) != 0 && st.ok()) st = IoError(tmp + ": close failed: " + std::strerror(errno));
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = IoError(path + ": rename failed: " + std::strerror(errno));
  if (!st.ok()) ::unlink(tmp.c_str());
  return st;
}

}  // namespace accel::api
