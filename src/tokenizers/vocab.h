#pragma once
// Token <-> id tables shared by the models, with string_view lookups (no allocation per query).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace accel::tok {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using TokenMap = std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>>;

class Vocab {
 public:
  // Returns false if an id is negative or absurdly large.
  bool Add(const std::string& token, int64_t id);
  std::optional<int64_t> Find(std::string_view token) const {
    auto it = map_.find(token);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }
  const std::string* Token(int64_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= by_id_.size() || !present_[id]) return nullptr;
    return &by_id_[id];
  }
  size_t size() const { return map_.size(); }
  // Strings by id, "" for ids with no token.
  const std::vector<std::string>& strings() const { return by_id_; }

 private:
  TokenMap map_;
  std::vector<std::string> by_id_;
  std::vector<bool> present_;
};

}  // namespace accel::tok
