#pragma once
// Bytes -> valid UTF-8, each maximal invalid subsequence replaced by one U+FFFD (the rule of
// Rust's String::from_utf8_lossy, which HF's ByteLevel decoder uses).
#include <string>
#include <string_view>

namespace accel::tok {
std::string Utf8Lossy(std::string_view bytes);
}  // namespace accel::tok
