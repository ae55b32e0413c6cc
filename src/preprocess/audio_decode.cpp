// libsndfile over an in-memory buffer (virtual I/O), so files and fuzzers share one path.
#include <algorithm>
#include <cmath>
#include <cstring>

#include <sndfile.h>
#include <soxr.h>

#include "core/mapped_file.h"
#include "preprocess/audio.h"

namespace accel::preprocess {

namespace {

struct MemoryFile {
  std::string_view data;
  sf_count_t pos = 0;
};

sf_count_t MemLength(void* user) { return static_cast<sf_count_t>(static_cast<MemoryFile*>(user)->data.size()); }
sf_count_t MemSeek(sf_count_t offset, int whence, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f->pos : static_cast<sf_count_t>(f->data.size());
  sf_count_t next = base + offset;
  if (next < 0) next = 0;
  if (next > static_cast<sf_count_t>(f->data.size())) next = static_cast<sf_count_t>(f->data.size());
  f->pos = next;
  return f->pos;
}
sf_count_t MemRead(void* ptr, sf_count_t count, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  const sf_count_t n = std::max<sf_count_t>(0, std::min<sf_count_t>(count, static_cast<sf_count_t>(f->data.size()) - f->pos));
  std::memcpy(ptr, f->data.data() + f->pos, static_cast<size_t>(n));
  f->pos += n;
  return n;
}
sf_count_t MemWrite(const void*, sf_count_t, void*) { return 0; }
sf_count_t MemTell(void* user) { return static_cast<MemoryFile*>(user)->pos; }

}  // namespace

Result<Audio> DecodeAudio(std::string_view bytes, const std::string& label, const AudioDecodeOptions& options) {
  if (bytes.empty()) return Corrupt(label + ": empty audio file");
  MemoryFile mem{bytes, 0};
  SF_VIRTUAL_IO io{MemLength, MemSeek, MemRead, MemWrite, MemTell};
  SF_INFO info;
  std::memset(&info, 0, sizeof(info));
  SNDFILE* sf = sf_open_virtual(&io, SFM_READ, &info, &mem);
  if (!sf) return Corrupt(label + ": not a readable audio file (" + std::string(sf_strerror(nullptr)) + ")");
  auto close = [&] { sf_close(sf); };
  if (info.channels <= 0 || info.channels > 64 || info.samplerate <= 0 || info.samplerate > 1'000'000) {
    close();
    return Corrupt(label + ": implausible audio header (" + std::to_string(info.channels) + " channels, " +
                   std::to_string(info.samplerate) + " Hz)");
  }
  if (info.frames <= 0) {
    close();
    return InvalidArgument(label + ": audio has no samples");
  }
  if (info.frames > options.max_samples) {
    close();
    return InvalidArgument(label + ": audio of " + std::to_string(info.frames) + " samples exceeds the limit of " +
                           std::to_string(options.max_samples));
  }
  std::vector<float> interleaved(static_cast<size_t>(info.frames) * info.channels);
  const sf_count_t got = sf_readf_float(sf, interleaved.data(), info.frames);
  close();
  if (got <= 0) return Corrupt(label + ": no audio frames could be decoded");
  Audio a;
  a.sample_rate = info.samplerate;
  a.channels = info.channels;
  a.samples.resize(static_cast<size_t>(got));
  // Mix down to mono by averaging channels.
  for (sf_count_t i = 0; i < got; ++i) {
    float s = 0;
    for (int c = 0; c < info.channels; ++c) s += interleaved[static_cast<size_t>(i) * info.channels + c];
    a.samples[static_cast<size_t>(i)] = info.channels == 1 ? s : s / static_cast<float>(info.channels);
    if (!std::isfinite(a.samples[static_cast<size_t>(i)]))
      return Corrupt(label + ": sample " + std::to_string(i) + " is NaN or infinite");
  }
  return a;
}

Result<Audio> LoadAudio(const std::string& path, const AudioDecodeOptions& options) {
  ACCEL_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  return DecodeAudio(bytes, path, options);
}

Result<std::vector<float>> Resample(const std::vector<float>& samples, int from_rate, int to_rate, int64_t max_samples) {
  if (from_rate <= 0 || to_rate <= 0) return InvalidArgument("resample: rates must be positive");
  if (from_rate == to_rate) return samples;
  // libsoxr runs for minutes designing its filter for ratios past about 2^19 (1 Hz -> 600 kHz,
  // found by fuzz_resample); real conversions stay within a few hundred.
  const int64_t ratio = from_rate > to_rate ? (from_rate + to_rate - 1) / to_rate : (to_rate + from_rate - 1) / from_rate;
  if (ratio > kMaxResampleRatio)
    return InvalidArgument("resample: " + std::to_string(from_rate) + " Hz -> " + std::to_string(to_rate) +
                           " Hz is a ratio over " + std::to_string(kMaxResampleRatio));
  // The length cap applies to what resampling makes: 32 KB at 1 Hz would become 2 GB at 16 kHz.
  const double out_len_d = std::ceil(static_cast<double>(samples.size()) * to_rate / from_rate);
  if (out_len_d > static_cast<double>(max_samples))
    return InvalidArgument("resample: " + std::to_string(samples.size()) + " samples at " + std::to_string(from_rate) +
                           " Hz would become " + std::to_string(static_cast<int64_t>(out_len_d)) + " at " +
                           std::to_string(to_rate) + " Hz, over the limit of " + std::to_string(max_samples));
  const size_t out_len = static_cast<size_t>(out_len_d);
  std::vector<float> out(out_len);
  size_t done = 0;
  soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
  soxr_error_t err = soxr_oneshot(from_rate, to_rate, 1, samples.data(), samples.size(), nullptr, out.data(), out_len, &done,
                                  nullptr, &q, nullptr);
  if (err) return Internal(std::string("resample failed: ") + soxr_strerror(err));
  out.resize(done);
  return out;
}

}  // namespace accel::preprocess
