#include "tokenizers/utf8_lossy.h"

namespace accel::tok {

std::string Utf8Lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  const size_t n = s.size();
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  while (i < n) {
    unsigned char b = byte(i);
    if (b < 0x80) { out.push_back(static_cast<char>(b)); ++i; continue; }
    int need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) need = 1;
    else if (b == 0xE0) { need = 2; lo = 0xA0; }
    else if (b >= 0xE1 && b <= 0xEC) need = 2;
    else if (b == 0xED) { need = 2; hi = 0x9F; }
    else if (b >= 0xEE && b <= 0xEF) need = 2;
    else if (b == 0xF0) { need = 3; lo = 0x90; }
    else if (b >= 0xF1 && b <= 0xF3) need = 3;
    else if (b == 0xF4) { need = 3; hi = 0x8F; }
    else { out += "\xEF\xBF\xBD"; ++i; continue; }
    size_t k = i + 1;
    int got = 0;
    while (got < need && k < n) {
      unsigned char c = byte(k);
      unsigned char l = got == 0 ? lo : 0x80, h = got == 0 ? hi : 0xBF;
      if (c < l || c > h) break;
      ++k;
      ++got;
    }
    if (got == need) out.append(s.substr(i, k - i));
    else out += "\xEF\xBF\xBD";
    i = k;
  }
  return out;
}

}  // namespace accel::tok
