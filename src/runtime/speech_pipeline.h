#pragma once
// Speech-to-text: audio file -> the folder's feature extractor -> Whisper greedy generation
// (with its language/task/no-timestamps prompt from generation_config.json) or Wav2Vec2 CTC
// (argmax per frame, repeats merged, blanks dropped, vocab.json, "|" as the word boundary).
#include <string>
#include <vector>

#include "runtime/loaded_model.h"

namespace accel::runtime {

struct Transcript {
  std::vector<int64_t> ids;  // generated ids (Whisper) or collapsed CTC ids (Wav2Vec2)
  std::string text;          // empty when no tokenizer could decode the ids
  std::string note;          // why text is empty, if it is
};

struct TranscribeOptions {
  std::string language = "<|en|>";
  std::string task = "transcribe";
  int64_t max_new_tokens = 128;
};

Result<Transcript> Transcribe(LoadedModel& model, const std::string& audio_path, const TranscribeOptions& options = {});

// Greedy CTC: argmax per frame, merge repeats, drop `blank`. logits [frames, vocab].
std::vector<int64_t> CtcGreedy(const float* logits, int64_t frames, int64_t vocab, int64_t blank);
// Joins CTC tokens with vocab.json's id -> token map; `delimiter` becomes a space.
Result<std::string> CtcToText(const std::vector<int64_t>& ids, const std::string& vocab_json_path,
                              const std::string& delimiter = "|");

}  // namespace accel::runtime
