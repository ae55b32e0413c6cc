#pragma once
// Nesting-depth check for untrusted JSON documents. nlohmann parses iteratively, but copying,
// comparing, dumping and our recursive builders (tokenizer Sequence stages) recurse once per
// level: a document nested 50,000 deep overflows the stack. Check right after parsing.
#include <cstddef>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace accel {

// Enough for every real tokenizer.json / config.json (they nest under 10 levels).
inline constexpr size_t kMaxJsonDepth = 128;

// True when some value in `j` lies more than `limit` containers deep. Iterative.
inline bool JsonDeeperThan(const nlohmann::json& j, size_t limit = kMaxJsonDepth) {
  std::vector<std::pair<const nlohmann::json*, size_t>> stack{{&j, 0}};
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    if (depth + 1 > limit) return true;
    for (const auto& child : *v)
      if (child.is_structured()) stack.push_back({&child, depth + 1});
  }
  return false;
}

}  // namespace accel
