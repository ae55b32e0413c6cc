// Image (PNG/JPEG) and audio (libsndfile) decoding entry points on arbitrary bytes: errors,
// never crashes, hangs or huge allocations (pixel and sample limits are set low).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "preprocess/audio.h"
#include "preprocess/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  accel::preprocess::DecodeOptions image_options;
  image_options.max_pixels = 1 << 20;
  (void)accel::preprocess::DecodeImage(bytes, "fuzz", image_options);
  accel::preprocess::AudioDecodeOptions audio_options;
  audio_options.max_samples = 1 << 20;
  (void)accel::preprocess::DecodeAudio(bytes, "fuzz", audio_options);
  return 0;
}
