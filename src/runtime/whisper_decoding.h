#pragma once
// What WhisperForConditionalGeneration.generate decides before its greedy loop, from the
// folder's generation_config.json (config.json when there is none): the decoder prompt
// (start, language, task, <|notimestamps|>), whether the language is left to the model, and
// the logits processors (begin-suppress, suppress, timestamp rules) in HF's order.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "formats/hf_config.h"
#include "runtime/generation/logits_processors.h"

namespace accel::runtime {

struct WhisperGenerationConfig {
  int64_t decoder_start_token_id = 50258;
  int64_t eos_token_id = 50257;
  std::optional<int64_t> pad_token_id;
  std::optional<std::vector<int64_t>> suppress_tokens, begin_suppress_tokens;
  // forced_decoder_ids: (position, token or none) pairs, position 1 first.
  std::vector<std::pair<int64_t, std::optional<int64_t>>> forced_decoder_ids;
  std::optional<std::map<std::string, int64_t>> lang_to_id, task_to_id;
  std::optional<int64_t> no_timestamps_token_id, max_initial_timestamp_index;
  std::optional<bool> is_multilingual;
  std::string language, task;  // set by fine-tuning scripts; used when the caller gives none

  // generation_config.json of `dir` if present, else the generation fields of config.json.
  static Result<WhisperGenerationConfig> Load(const std::string& dir, const HfConfig& config);
  static Result<WhisperGenerationConfig> FromJson(const nlohmann::json& j, const std::string& label);
};

struct WhisperDecodeOptions {
  std::string language;  // "" = the config's language, else forced_decoder_ids, else detected; "de" or "<|de|>"
  std::string task;      // "" = the config's task, else forced_decoder_ids; "transcribe" or "translate"
  bool timestamps = false;
};

struct WhisperPlan {
  std::vector<int64_t> prompt;    // decoder_input_ids
  int64_t begin_index = 0;        // position of the first freely generated token
  bool detect_language = false;   // the token at prompt.size() is the model's choice among languages
  generation::LogitsProcessorList processors;
  std::optional<int64_t> timestamp_begin;  // set when timestamps are on
};

// Errors (InvalidArgument) where HF raises: a language or task the config cannot express, a
// language for an English-only model, timestamps without <|notimestamps|> in the config.
Result<WhisperPlan> PlanWhisperDecoding(const WhisperGenerationConfig& cfg, const WhisperDecodeOptions& options);

// The lang_to_id key for "de", "DE" or "<|de|>".
Result<std::string> WhisperLanguageToken(const WhisperGenerationConfig& cfg, const std::string& language);

}  // namespace accel::runtime
