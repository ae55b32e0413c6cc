#pragma once
// Stop strings over streamed text. Text is pushed as it is decoded; what comes back is the part
// that can be shown: text that can no longer become part of a stop string. A tail of the
// stream that is the beginning of some stop string is held back until the next pieces either
// complete the stop string (then it and everything after it are dropped) or rule it out (then
// it is released). So a client never sees text that later turns out to be a stop string.
#include <string>
#include <string_view>
#include <vector>

namespace accel::generation {

class StopStringFilter {
 public:
  explicit StopStringFilter(std::vector<std::string> stops);

  // Appends decoded text; returns what may now be shown (possibly empty).
  std::string Push(std::string_view text);
  // A stop string has appeared: nothing more is shown.
  bool stopped() const { return stopped_; }
  // End of the stream: releases the held-back tail (nothing after a stop).
  std::string Finish();
  // Everything released so far: the output up to, not including, the first stop string.
  const std::string& shown() const { return shown_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;  // pushed, not yet shown
  std::string shown_;
  bool stopped_ = false;
};

}  // namespace accel::generation
