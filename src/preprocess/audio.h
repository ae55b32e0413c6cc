#pragma once
// Audio for the speech models: decode (WAV/FLAC/OGG through libsndfile), mix to mono, resample
// (libsoxr, the resampler librosa uses by default), and the feature extractors of
// preprocessor_config.json: Whisper's log-mel spectrogram and Wav2Vec2's normalisation.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tensor.h"

namespace accel::preprocess {

struct Audio {
  int sample_rate = 0;
  int channels = 0;            // of the source; samples are already mixed to mono
  std::vector<float> samples;  // PCM scaled to [-1, 1) (int16 / 32768, as soundfile reads it)
};

struct AudioDecodeOptions {
  int64_t max_samples = 16000LL * 60 * 60;  // refuse more than an hour at 16 kHz per channel
};

Result<Audio> DecodeAudio(std::string_view bytes, const std::string& label, const AudioDecodeOptions& options = {});
Result<Audio> LoadAudio(const std::string& path, const AudioDecodeOptions& options = {});

// Sample-rate conversion (identity when rates agree).
// Refuses outputs over `max_samples` (by default an hour at 16 kHz, like AudioDecodeOptions)
// before allocating them (the fuzzer sets it low), and rates more than kMaxResampleRatio apart.
inline constexpr int64_t kMaxResampledSamples = 16000LL * 60 * 60;
// Rates further apart than this (either way) are refused: 1 Hz -> 16 kHz is well inside.
inline constexpr int64_t kMaxResampleRatio = 65536;
Result<std::vector<float>> Resample(const std::vector<float>& samples, int from_rate, int to_rate,
                                    int64_t max_samples = kMaxResampledSamples);

struct AudioFeatureConfig {
  std::string type;  // "WhisperFeatureExtractor" or "Wav2Vec2FeatureExtractor"
  int sampling_rate = 16000;
  int feature_size = 80;  // mel bins (Whisper)
  int n_fft = 400, hop_length = 160, chunk_length = 30;
  bool do_normalize = true;  // Wav2Vec2

  static Result<AudioFeatureConfig> FromJson(const nlohmann::json& j, const std::string& label);
  static Result<AudioFeatureConfig> Load(const std::string& path);
};

// Whisper: pad/trim to chunk_length seconds, periodic-Hann STFT (centre, reflect), power,
// slaney mel filterbank, log10 clamp (max - 8), (x + 4) / 4. Returns [1, mels, frames].
Result<Tensor> WhisperLogMel(const std::vector<float>& samples, const AudioFeatureConfig& config);
// Wav2Vec2: (x - mean) / sqrt(var + 1e-7) when do_normalize. Returns [1, samples].
Result<Tensor> Wav2Vec2Features(const std::vector<float>& samples, const AudioFeatureConfig& config);
// Runs the extractor the config names on decoded audio (resampling to its rate first).
Result<Tensor> ExtractAudioFeatures(const Audio& audio, const AudioFeatureConfig& config, std::string* output_name);

}  // namespace accel::preprocess
