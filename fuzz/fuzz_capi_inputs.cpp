// What a C API caller hands in, from arbitrary bytes: tensor views (names, dtypes, ranks and
// shapes of any value, data as long as the shape says) and texts checked for UTF-8. Every
// input is a tensor map or an error, never a crash; valid UTF-8 per utf8proc agrees with a
// strict decoder written out here.
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "capi/c_api_inputs.h"

namespace {

// A plain reading of RFC 3629: the shortest form only, no surrogates, nothing past U+10FFFF.
bool StrictUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len = 0;
    uint32_t cp = 0;
    if (c < 0x80) len = 1, cp = c;
    else if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
    else return false;
    if (i + len > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

struct Reader {
  const uint8_t* p;
  size_t left;
  uint8_t Byte() {
    if (left == 0) return 0;
    --left;
    return *p++;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  if (accel::capi::IsValidUtf8(all) != StrictUtf8(all)) __builtin_trap();

  Reader r{data, size};
  const size_t count = r.Byte() % 5;
  std::vector<std::string> names(count);
  std::vector<std::vector<int64_t>> shapes(count);
  std::vector<std::vector<uint8_t>> buffers(count);
  std::vector<accel_tensor_view> views(count);
  for (size_t i = 0; i < count; ++i) {
    const size_t name_len = r.Byte() % 8;
    for (size_t k = 0; k < name_len; ++k) names[i].push_back(static_cast<char>('a' + r.Byte() % 3));
    accel_tensor_view& v = views[i];
    v.name = (r.Byte() & 7) == 0 ? nullptr : names[i].c_str();
    v.dtype = static_cast<accel_dtype>(static_cast<int8_t>(r.Byte()) % 8);
    v.rank = static_cast<int8_t>(r.Byte()) % 11;
    for (int32_t d = 0; d < std::max(v.rank, 0); ++d) {
      int64_t dim = static_cast<int8_t>(r.Byte());
      if (r.Byte() & 1) dim <<= r.Byte() % 62;  // huge and overflowing products too
      shapes[i].push_back(dim);
    }
    v.shape = shapes[i].empty() && (r.Byte() & 1) ? nullptr : shapes[i].data();
    // Data as long as the shape claims, for shapes small enough to hold; none otherwise.
    uint64_t numel = 1;
    bool small = true;
    for (int64_t d : shapes[i]) {
      if (d < 0 || d > 4096 || (numel *= static_cast<uint64_t>(d)) > 4096) small = false;
      if (!small) break;
    }
    if (small) {
      buffers[i].resize(numel * 8);
      for (auto& b : buffers[i]) b = r.Byte();
    }
    v.data = small && !buffers[i].empty() ? buffers[i].data() : nullptr;
  }
  const accel_tensor_view* list = count > 0 && (size & 1) == 0 ? nullptr : views.data();
  auto inputs = accel::capi::InputsFromViews(list, count);
  if (!inputs.ok()) return 0;
  // Accepted: one owning tensor per view, with its shape and its bytes.
  if (inputs->size() != count) __builtin_trap();
  for (size_t i = 0; i < count; ++i) {
    const accel::Tensor& t = inputs->at(names[i]);
    if (t.shape() != accel::Shape(shapes[i].begin(), shapes[i].end())) __builtin_trap();
    if (t.nbytes() > 0 && std::memcmp(t.raw(), buffers[i].data(), t.nbytes()) != 0) __builtin_trap();
  }
  return 0;
}
