#pragma once
// Speech-to-text: audio file -> the folder's feature extractor -> Whisper greedy generation
// (prompt, language detection, suppressed tokens and timestamp rules as HF's generate decides
// them from generation_config.json; see whisper_decoding.h) or Wav2Vec2 CTC (argmax per
// frame, repeats merged, blanks dropped, vocab.json, "|" as the word boundary).
#include <string>
#include <vector>

#include "runtime/loaded_model.h"

namespace accel::runtime {

struct TranscriptSegment {
  double start = 0, end = 0;  // seconds
  std::vector<int64_t> ids;   // without timestamp tokens
  std::string text;
};

struct Transcript {
  std::vector<int64_t> ids;  // generated ids after the prompt (Whisper) or collapsed CTC ids (Wav2Vec2)
  std::string text;          // empty when no tokenizer could decode the ids; timestamps left out
  std::string note;          // why text is empty, if it is
  std::string language;      // Whisper: the prompt's language token ("<|de|>"), given or detected
  bool timestamps = false;   // Whisper decoded with timestamps: `segments` holds them
  std::vector<TranscriptSegment> segments;
};

struct TranscribeOptions {
  std::string language;  // Whisper: "" = the config's or detected; "de" or "<|de|>"
  std::string task;      // Whisper: "" = the config's; transcribe or translate
  bool timestamps = false;
  int64_t max_new_tokens = 128;
};

Result<Transcript> Transcribe(LoadedModel& model, const std::string& audio_path, const TranscribeOptions& options = {});

// Greedy CTC: argmax per frame, merge repeats, drop `blank`. logits [frames, vocab].
std::vector<int64_t> CtcGreedy(const float* logits, int64_t frames, int64_t vocab, int64_t blank);
// Joins CTC tokens with vocab.json's id -> token map; `delimiter` becomes a space.
Result<std::string> CtcToText(const std::vector<int64_t>& ids, const std::string& vocab_json_path,
                              const std::string& delimiter = "|");

}  // namespace accel::runtime
