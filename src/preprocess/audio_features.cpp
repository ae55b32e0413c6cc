// Whisper's log-mel front-end and Wav2Vec2's normalisation, as HF's feature extractors
// compute them (the STFT in double precision, which agrees with torch's float32 STFT within
// the goldens' 1e-4).
#include <algorithm>
#include <cmath>

#include "core/mapped_file.h"
#include "preprocess/audio.h"

namespace accel::preprocess {

namespace {
constexpr double kPi = 3.14159265358979323846;

double HzToMelSlaney(double f) {
  const double min_log_hz = 1000.0, min_log_mel = 15.0, logstep = 27.0 / std::log(6.4);
  return f >= min_log_hz ? min_log_mel + std::log(f / min_log_hz) * logstep : 3.0 * f / 200.0;
}
double MelToHzSlaney(double m) {
  const double min_log_hz = 1000.0, min_log_mel = 15.0, logstep = std::log(6.4) / 27.0;
  return m >= min_log_mel ? min_log_hz * std::exp(logstep * (m - min_log_mel)) : 200.0 * m / 3.0;
}

// [mels, bins] triangular filters on the slaney mel scale with slaney area normalisation
// (transformers.audio_utils.mel_filter_bank, librosa.filters.mel).
std::vector<double> MelFilters(int mels, int bins, double sampling_rate) {
  const double mel_min = HzToMelSlaney(0.0), mel_max = HzToMelSlaney(sampling_rate / 2);
  std::vector<double> edges(mels + 2);
  for (int i = 0; i < mels + 2; ++i) edges[i] = MelToHzSlaney(mel_min + (mel_max - mel_min) * i / (mels + 1));
  std::vector<double> filters(static_cast<size_t>(mels) * bins);
  const double nyquist = std::floor(sampling_rate / 2);  // np.linspace(0, sr // 2, bins)
  for (int m = 0; m < mels; ++m) {
    const double enorm = 2.0 / (edges[m + 2] - edges[m]);
    for (int b = 0; b < bins; ++b) {
      const double f = nyquist * b / (bins - 1);
      const double down = (f - edges[m]) / (edges[m + 1] - edges[m]);
      const double up = (edges[m + 2] - f) / (edges[m + 2] - edges[m + 1]);
      filters[static_cast<size_t>(m) * bins + b] = std::max(0.0, std::min(down, up)) * enorm;
    }
  }
  return filters;
}

bool BoolOr(const nlohmann::json& j, const char* key, bool fallback) {
  return j.contains(key) && j[key].is_boolean() ? j[key].get<bool>() : fallback;
}
Result<int> IntIn(const nlohmann::json& j, const char* key, int fallback, int lo, int hi, const std::string& label) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_number_integer() || j[key].get<int64_t>() < lo || j[key].get<int64_t>() > hi) {
    return Corrupt(label + ": '" + key + "' must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return j[key].get<int>();
}
}  // namespace

Result<AudioFeatureConfig> AudioFeatureConfig::FromJson(const nlohmann::json& j, const std::string& label) {
  if (!j.is_object()) return Corrupt(label + ": not a JSON object");
  AudioFeatureConfig c;
  c.type = j.value("feature_extractor_type", std::string());
  if (c.type != "WhisperFeatureExtractor" && c.type != "Wav2Vec2FeatureExtractor") {
    return Unsupported(label + ": feature_extractor_type '" + c.type + "' (WhisperFeatureExtractor, Wav2Vec2FeatureExtractor)");
  }
  ACCEL_ASSIGN_OR_RETURN(c.sampling_rate, IntIn(j, "sampling_rate", 16000, 1000, 384000, label));
  ACCEL_ASSIGN_OR_RETURN(c.feature_size, IntIn(j, "feature_size", c.type == "WhisperFeatureExtractor" ? 80 : 1, 1, 1024, label));
  ACCEL_ASSIGN_OR_RETURN(c.n_fft, IntIn(j, "n_fft", 400, 2, 1 << 16, label));
  ACCEL_ASSIGN_OR_RETURN(c.hop_length, IntIn(j, "hop_length", 160, 1, 1 << 16, label));
  ACCEL_ASSIGN_OR_RETURN(c.chunk_length, IntIn(j, "chunk_length", 30, 1, 3600, label));
  c.do_normalize = BoolOr(j, "do_normalize", true);
  return c;
}

Result<AudioFeatureConfig> AudioFeatureConfig::Load(const std::string& path) {
  ACCEL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Corrupt(path + ": not valid JSON");
  return FromJson(j, path);
}

Result<Tensor> WhisperLogMel(const std::vector<float>& samples, const AudioFeatureConfig& c) {
  const int64_t n_samples = static_cast<int64_t>(c.chunk_length) * c.sampling_rate;
  const int n_fft = c.n_fft, hop = c.hop_length, pad = n_fft / 2, bins = n_fft / 2 + 1;
  if (n_samples <= pad) return InvalidArgument("chunk too short for the STFT");
  // Pad with zeros / trim to the chunk BEFORE the STFT, then reflect-pad by n_fft / 2.
  std::vector<double> x(static_cast<size_t>(n_samples + 2 * pad), 0.0);
  for (int64_t i = 0; i < n_samples; ++i) x[pad + i] = i < static_cast<int64_t>(samples.size()) ? samples[i] : 0.0f;
  for (int i = 1; i <= pad; ++i) {
    x[pad - i] = x[pad + i];
    x[pad + n_samples - 1 + i] = x[pad + n_samples - 1 - i];
  }
  const int64_t frames = n_samples / hop;  // 1 + n_samples / hop frames, the last one dropped
  std::vector<double> window(n_fft), cos_t(n_fft), sin_t(n_fft);
  for (int n = 0; n < n_fft; ++n) {
    window[n] = 0.5 - 0.5 * std::cos(2 * kPi * n / n_fft);  // periodic Hann
    cos_t[n] = std::cos(2 * kPi * n / n_fft);
    sin_t[n] = std::sin(2 * kPi * n / n_fft);
  }
  const std::vector<double> filters = MelFilters(c.feature_size, bins, c.sampling_rate);
  ACCEL_ASSIGN_OR_RETURN(Tensor out, Tensor::Zeros(DType::kF32, {1, c.feature_size, frames}));
  std::vector<double> frame(n_fft), power(bins);
  std::vector<double> logmel(static_cast<size_t>(c.feature_size) * frames);
  for (int64_t t = 0; t < frames; ++t) {
    bool silent = true;
    for (int n = 0; n < n_fft; ++n) {
      frame[n] = x[t * hop + n] * window[n];
      silent = silent && frame[n] == 0.0;
    }
    for (int k = 0; k < bins; ++k) {
      if (silent) {
        power[k] = 0;
        continue;
      }
      double re = 0, im = 0;
      int64_t idx = 0;  // (k * n) mod n_fft, advanced incrementally
      for (int n = 0; n < n_fft; ++n) {
        re += frame[n] * cos_t[idx];
        im -= frame[n] * sin_t[idx];
        idx += k;
        if (idx >= n_fft) idx -= n_fft;
      }
      power[k] = re * re + im * im;
    }
    for (int m = 0; m < c.feature_size; ++m) {
      double e = 0;
      const double* f = &filters[static_cast<size_t>(m) * bins];
      for (int k = 0; k < bins; ++k) e += f[k] * power[k];
      logmel[static_cast<size_t>(m) * frames + t] = std::log10(std::max(e, 1e-10));
    }
  }
  const double top = *std::max_element(logmel.begin(), logmel.end());
  for (size_t i = 0; i < logmel.size(); ++i) out.data<float>()[i] = static_cast<float>((std::max(logmel[i], top - 8.0) + 4.0) / 4.0);
  return out;
}

Result<Tensor> Wav2Vec2Features(const std::vector<float>& samples, const AudioFeatureConfig& c) {
  if (samples.empty()) return InvalidArgument("audio has no samples");
  ACCEL_ASSIGN_OR_RETURN(Tensor out, Tensor::Zeros(DType::kF32, {1, static_cast<int64_t>(samples.size())}));
  float* o = out.data<float>();
  if (!c.do_normalize) {
    std::copy(samples.begin(), samples.end(), o);
    return out;
  }
  double mean = 0, var = 0;
  for (float s : samples) mean += s;
  mean /= samples.size();
  for (float s : samples) var += (s - mean) * (s - mean);
  var /= samples.size();  // population variance, as numpy's var()
  const float m = static_cast<float>(mean), denom = static_cast<float>(std::sqrt(var + 1e-7));
  for (size_t i = 0; i < samples.size(); ++i) o[i] = (samples[i] - m) / denom;
  return out;
}

Result<Tensor> ExtractAudioFeatures(const Audio& audio, const AudioFeatureConfig& c, std::string* output_name) {
  ACCEL_ASSIGN_OR_RETURN(std::vector<float> samples, Resample(audio.samples, audio.sample_rate, c.sampling_rate));
  if (c.type == "WhisperFeatureExtractor") {
    if (output_name) *output_name = "input_features";
    return WhisperLogMel(samples, c);
  }
  if (output_name) *output_name = "input_values";
  return Wav2Vec2Features(samples, c);
}

}  // namespace accel::preprocess
