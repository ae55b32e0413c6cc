#include "runtime/speech_pipeline.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "core/mapped_file.h"
#include "preprocess/audio.h"
#include "runtime/generation/whisper_timestamps.h"
#include "runtime/whisper_decoding.h"
#include "tokenizers/tokenizer.h"

namespace accel::runtime {

namespace fs = std::filesystem;

std::vector<int64_t> CtcGreedy(const float* logits, int64_t frames, int64_t vocab, int64_t blank) {
  std::vector<int64_t> out;
  int64_t prev = -1;
  for (int64_t t = 0; t < frames; ++t) {
    const float* row = logits + t * vocab;
    const int64_t id = std::max_element(row, row + vocab) - row;
    if (id != prev && id != blank) out.push_back(id);
    prev = id;
  }
  return out;
}

Result<std::string> CtcToText(const std::vector<int64_t>& ids, const std::string& vocab_json_path, const std::string& delimiter) {
  ACCEL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(vocab_json_path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Corrupt(vocab_json_path + ": not a JSON object of token -> id");
  std::map<int64_t, std::string> by_id;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.value().is_number_integer()) by_id[it.value().get<int64_t>()] = it.key();
  }
  std::string out;
  for (int64_t id : ids) {
    auto it = by_id.find(id);
    if (it == by_id.end()) return Corrupt(vocab_json_path + ": no token for id " + std::to_string(id));
    const std::string& tok = it->second;
    if (tok.size() > 2 && tok.front() == '<' && tok.back() == '>') continue;  // <s>, </s>, <unk>, <pad>
    out += tok == delimiter ? " " : tok;
  }
  // Collapse runs of spaces and trim, as the HF CTC tokenizer's word grouping does.
  std::string clean;
  for (char c : out) {
    if (c == ' ' && (clean.empty() || clean.back() == ' ')) continue;
    clean += c;
  }
  while (!clean.empty() && clean.back() == ' ') clean.pop_back();
  return clean;
}

namespace {

Result<Tensor> Features(LoadedModel& model, const std::string& audio_path, std::string* name) {
  const std::string cfg_path = (fs::path(model.dir()) / "preprocessor_config.json").string();
  ACCEL_ASSIGN_OR_RETURN(auto cfg, preprocess::AudioFeatureConfig::Load(cfg_path));
  ACCEL_ASSIGN_OR_RETURN(preprocess::Audio audio, preprocess::LoadAudio(audio_path));
  return preprocess::ExtractAudioFeatures(audio, cfg, name);
}

}  // namespace

Result<Transcript> Transcribe(LoadedModel& model, const std::string& audio_path, const TranscribeOptions& o) {
  const std::string type = model.config().model_type();
  if (type != "whisper" && type != "wav2vec2") return InvalidArgument(model.dir() + ": transcribe needs a whisper or wav2vec2 model, not '" + type + "'");
  std::string name;
  ACCEL_ASSIGN_OR_RETURN(Tensor features, Features(model, audio_path, &name));
  Transcript out;
  if (type == "wav2vec2") {
    if (name != "input_values") return InvalidArgument(model.dir() + ": preprocessor_config.json is not a Wav2Vec2 feature extractor");
    if (!o.language.empty() || !o.task.empty() || o.timestamps) {
      return InvalidArgument(model.dir() + ": language, task and timestamps are Whisper options; a CTC model has none");
    }
    ACCEL_ASSIGN_OR_RETURN(TensorMap result, model.Run({{"input_values", features}}));
    auto it = result.find("logits");
    if (it == result.end()) return InvalidArgument(model.dir() + ": model has no CTC head (Wav2Vec2ForCTC needed)");
    const Tensor& logits = it->second;
    out.ids = CtcGreedy(logits.data<float>(), logits.dim(1), logits.dim(2), model.config().IntOr("pad_token_id", 0));
    const std::string vocab = (fs::path(model.dir()) / "vocab.json").string();
    if (fs::exists(vocab)) {
      ACCEL_ASSIGN_OR_RETURN(out.text, CtcToText(out.ids, vocab));
    } else {
      out.note = "no vocab.json in the model folder";
    }
    return out;
  }
  if (name != "input_features") return InvalidArgument(model.dir() + ": preprocessor_config.json is not a Whisper feature extractor");
  ACCEL_ASSIGN_OR_RETURN(WhisperGenerationConfig gen, WhisperGenerationConfig::Load(model.dir(), model.config()));
  ACCEL_ASSIGN_OR_RETURN(WhisperPlan plan, PlanWhisperDecoding(gen, {o.language, o.task, o.timestamps}));
  GenerateRequest req;
  req.inputs["input_features"] = features;
  ACCEL_ASSIGN_OR_RETURN(Tensor p, Tensor::Zeros(DType::kI64, {1, static_cast<int64_t>(plan.prompt.size())}));
  std::copy(plan.prompt.begin(), plan.prompt.end(), p.data<int64_t>());
  req.inputs["decoder_input_ids"] = p;
  // max_new_tokens counts after the whole prompt, as in HF; a detected language and what
  // follows it are decoded here but belong to the prompt.
  const int64_t forced = plan.begin_index - static_cast<int64_t>(plan.prompt.size());
  const int64_t room = model.config().IntOr("max_target_positions", 448) - plan.begin_index;
  req.max_new_tokens = forced + std::max<int64_t>(0, std::min(o.max_new_tokens, room));
  req.eos_token_ids = {gen.eos_token_id};
  req.pad_token_id = gen.pad_token_id.value_or(gen.eos_token_id);
  if (!plan.processors.empty()) req.process_logits = plan.processors.AsFunction();
  ACCEL_ASSIGN_OR_RETURN(Tensor ids, model.Generate(req));
  const int64_t* row = ids.data<int64_t>();
  const int64_t len = static_cast<int64_t>(ids.numel());
  if (len < plan.begin_index) return Internal("Whisper generation stopped inside its prompt");
  out.ids.assign(row + plan.begin_index, row + len);
  if (gen.lang_to_id && plan.begin_index > 1) {
    for (const auto& [token, id] : *gen.lang_to_id) {
      if (id == row[1]) out.language = token;
    }
  }
  out.timestamps = o.timestamps;
  // Timestamp tokens are not text (HF's decode filters them out of the string).
  const int64_t timestamp_begin = gen.no_timestamps_token_id ? *gen.no_timestamps_token_id + 1 : INT64_MAX;
  std::vector<generation::TimestampSegment> segments;
  if (plan.timestamp_begin) segments = generation::TimestampSegments(out.ids, *plan.timestamp_begin);
  for (auto& s : segments) out.segments.push_back({s.start, s.end, std::move(s.tokens), ""});
  auto tok = Tokenizer::Load(model.dir());
  if (!tok.ok()) {
    out.note = tok.status().message();
    return out;
  }
  std::vector<int64_t> text_ids;
  std::copy_if(out.ids.begin(), out.ids.end(), std::back_inserter(text_ids), [&](int64_t id) { return id < timestamp_begin; });
  ACCEL_ASSIGN_OR_RETURN(out.text, (*tok)->Decode(text_ids, /*skip_special_tokens=*/true));
  for (auto& s : out.segments) {
    ACCEL_ASSIGN_OR_RETURN(s.text, (*tok)->Decode(s.ids, /*skip_special_tokens=*/false));
  }
  return out;
}

}  // namespace accel::runtime
