#include "runtime/generation/stop_strings.h"

#include <algorithm>

namespace accel::generation {

StopStringFilter::StopStringFilter(std::vector<std::string> stops) {
  for (auto& s : stops) {
    if (!s.empty()) stops_.push_back(std::move(s));
  }
}

std::string StopStringFilter::Push(std::string_view text) {
  if (stopped_) return {};
  pending_.append(text);
  // Shown text never ends in the beginning of a stop string, so a stop string that appears now
  // starts inside pending_: the earliest one ends the stream.
  size_t stop_at = std::string::npos;
  for (const auto& s : stops_) stop_at = std::min(stop_at, pending_.find(s));
  if (stop_at != std::string::npos) {
    stopped_ = true;
    std::string out = pending_.substr(0, stop_at);
    shown_ += out;
    pending_.clear();
    return out;
  }
  // Hold back the longest tail that some stop string starts with.
  size_t hold = 0;
  for (const auto& s : stops_) {
    for (size_t n = std::min(s.size() - 1, pending_.size()); n > hold; --n) {
      if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
    }
  }
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  shown_ += out;
  return out;
}

std::string StopStringFilter::Finish() {
  if (stopped_) return {};
  std::string out = std::move(pending_);
  pending_.clear();
  shown_ += out;
  return out;
}

}  // namespace accel::generation
