#include "tokenizers/precompiled_charsmap.h"

#include <cstring>

#include "tokenizers/unicode.h"

namespace accel::tok {

Result<std::string> DecodeBase64(const std::string& in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    if (c == '\n' || c == '\r') continue;
    int v = val(c);
    if (v < 0) return Corrupt("invalid base64 character in precompiled_charsmap");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

Result<PrecompiledCharsmap> PrecompiledCharsmap::FromBase64(const std::string& b64) {
  ACCEL_ASSIGN_OR_RETURN(std::string bytes, DecodeBase64(b64));
  return FromBytes(bytes);
}

Result<PrecompiledCharsmap> PrecompiledCharsmap::FromBytes(std::string_view bytes) {
  if (bytes.size() < 4) return Corrupt("precompiled_charsmap shorter than its 4-byte header");
  uint32_t trie_size;
  std::memcpy(&trie_size, bytes.data(), 4);  // little-endian, as x86 and the format are
  if (trie_size % 4 != 0 || trie_size > bytes.size() - 4 || trie_size == 0)
    return Corrupt("precompiled_charsmap trie size " + std::to_string(trie_size) + " does not fit its " +
                   std::to_string(bytes.size()) + " bytes");
  PrecompiledCharsmap m;
  m.units_.resize(trie_size / 4);
  std::memcpy(m.units_.data(), bytes.data() + 4, trie_size);
  m.normalized_.assign(bytes.data() + 4 + trie_size, bytes.size() - 4 - trie_size);
  return m;
}

std::optional<std::string_view> PrecompiledCharsmap::Transform(std::string_view chunk) const {
  auto offset = [](uint32_t u) -> size_t { return (u >> 10) << ((u & (1u << 9)) >> 6); };
  auto has_leaf = [](uint32_t u) { return ((u >> 8) & 1) == 1; };
  auto label = [](uint32_t u) { return u & ((1u << 31) | 0xFF); };
  auto value = [](uint32_t u) { return u & ((1u << 31) - 1); };
  size_t pos = offset(units_[0]);
  for (char ch : chunk) {
    auto c = static_cast<unsigned char>(ch);
    if (c == 0) break;
    pos ^= c;
    if (pos >= units_.size()) return std::nullopt;
    uint32_t unit = units_[pos];
    if (label(unit) != c) return std::nullopt;
    pos ^= offset(unit);
    if (pos >= units_.size()) return std::nullopt;
    if (has_leaf(unit)) {
      size_t index = value(units_[pos]);
      if (index > normalized_.size()) return std::nullopt;
      size_t end = normalized_.find('\0', index);
      if (end == std::string::npos) end = normalized_.size();
      std::string_view out(normalized_.data() + index, end - index);
      if (FindInvalidUtf8(out) != std::string_view::npos) return std::nullopt;
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace accel::tok
