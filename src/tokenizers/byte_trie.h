#pragma once
// A byte trie mapping strings to ids, children kept in one hash map keyed by (node << 8 | byte).
// Shared by added-token matching and Unigram's prefix lattice.
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace accel::tok {

class ByteTrie {
 public:
  void Insert(std::string_view key, int64_t id) {
    uint32_t node = 0;
    for (unsigned char c : key) {
      const uint64_t k = (static_cast<uint64_t>(node) << 8) | c;
      auto it = edges_.find(k);
      if (it == edges_.end()) {
        const uint32_t n = static_cast<uint32_t>(values_.size());
        values_.push_back(-1);
        edges_.emplace(k, n);
        node = n;
      } else {
        node = it->second;
      }
    }
    values_[node] = id;
  }

  bool empty() const { return values_.size() <= 1; }

  // Calls fn(length, id) for every key that is a prefix of text[start..], shortest first.
  template <typename Fn>
  void CommonPrefixes(std::string_view text, size_t start, Fn&& fn) const {
    uint32_t node = 0;
    for (size_t i = start; i < text.size(); ++i) {
      auto it = edges_.find((static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[i]));
      if (it == edges_.end()) return;
      node = it->second;
      if (values_[node] >= 0) fn(i + 1 - start, values_[node]);
    }
  }

 private:
  std::unordered_map<uint64_t, uint32_t> edges_;
  std::vector<int64_t> values_{-1};
};

}  // namespace accel::tok
