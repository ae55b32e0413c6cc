// libFuzzer target: audio resampling (preprocess Resample, libsoxr) at sample rates and lengths
// taken from the input. Rates cover the decoder's range (1 Hz .. 1 MHz) and invalid ones; the
// output cap (set low here) must refuse before allocating, and what comes out is never longer
// than the cap or than the ratio allows.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "preprocess/audio.h"

namespace {

constexpr int64_t kCap = 1 << 20;

int RateFrom(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v % 1'000'001;  // -1 MHz .. 1 MHz: zero and negative rates must be refused too
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  const int from = RateFrom(data), to = RateFrom(data + 4);
  // The rest is 16-bit PCM, as a decoded WAV would be (finite, in [-1, 1)).
  std::vector<float> samples((size - 8) / 2);
  for (size_t i = 0; i < samples.size(); ++i) {
    int16_t s;
    std::memcpy(&s, data + 8 + 2 * i, sizeof s);
    samples[i] = static_cast<float>(s) / 32768.0f;
  }
  auto out = accel::preprocess::Resample(samples, from, to, kCap);
  if (!out.ok()) return 0;
  const double expected = from == to ? static_cast<double>(samples.size())
                                     : std::ceil(static_cast<double>(samples.size()) * to / from);
  if (static_cast<int64_t>(out->size()) > kCap || static_cast<double>(out->size()) > expected) {
    std::fprintf(stderr, "resample %d -> %d of %zu samples gave %zu (cap %lld)\n", from, to, samples.size(),
                 out->size(), static_cast<long long>(kCap));
    std::abort();
  }
  return 0;
}
