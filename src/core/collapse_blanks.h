#pragma once
// Whitespace runs squeezed to single spaces: SigV4's canonical header values (spaces and tabs)
// and multi-line library messages made one line (newlines too).
#include <string>
#include <string_view>

namespace accel {

// Each run of characters from `blanks` becomes one space; leading and trailing runs are dropped.
inline std::string CollapseBlanks(std::string_view s, std::string_view blanks) {
  std::string out;
  bool pending = false;
  for (char c : s) {
    if (blanks.find(c) != std::string_view::npos) {
      pending = !out.empty();
      continue;
    }
    if (pending) out += ' ';
    pending = false;
    out += c;
  }
  return out;
}

}  // namespace accel
