#include "runtime/speech_pipeline.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "core/mapped_file.h"
#include "preprocess/audio.h"
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

// Whisper's decoder prompt: start token, then language and task, then no-timestamps, when
// generation_config.json defines them (multilingual checkpoints); else the start token only.
std::vector<int64_t> WhisperPrompt(LoadedModel& model, const TranscribeOptions& o) {
  std::vector<int64_t> prompt = {model.config().IntOr("decoder_start_token_id", 50258)};
  auto text = ReadFileToString((fs::path(model.dir()) / "generation_config.json").string());
  if (!text.ok()) return prompt;
  auto g = nlohmann::json::parse(*text, nullptr, false);
  if (g.is_discarded() || !g.is_object()) return prompt;
  if (g.contains("lang_to_id") && g["lang_to_id"].contains(o.language) && g["lang_to_id"][o.language].is_number_integer()) {
    prompt.push_back(g["lang_to_id"][o.language].get<int64_t>());
  }
  if (g.contains("task_to_id") && g["task_to_id"].contains(o.task) && g["task_to_id"][o.task].is_number_integer()) {
    prompt.push_back(g["task_to_id"][o.task].get<int64_t>());
  }
  if (g.contains("no_timestamps_token_id") && g["no_timestamps_token_id"].is_number_integer()) {
    prompt.push_back(g["no_timestamps_token_id"].get<int64_t>());
  }
  return prompt;
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
  GenerateRequest req;
  req.inputs["input_features"] = features;
  const std::vector<int64_t> prompt = WhisperPrompt(model, o);
  ACCEL_ASSIGN_OR_RETURN(Tensor p, Tensor::Zeros(DType::kI64, {1, static_cast<int64_t>(prompt.size())}));
  std::copy(prompt.begin(), prompt.end(), p.data<int64_t>());
  req.inputs["decoder_input_ids"] = p;
  const int64_t room = model.config().IntOr("max_target_positions", 448) - static_cast<int64_t>(prompt.size());
  req.max_new_tokens = std::max<int64_t>(0, std::min(o.max_new_tokens, room));
  req.eos_token_ids = {model.config().IntOr("eos_token_id", 50257)};
  req.pad_token_id = model.config().IntOr("pad_token_id", req.eos_token_ids[0]);
  ACCEL_ASSIGN_OR_RETURN(Tensor ids, model.Generate(req));
  out.ids.assign(ids.data<int64_t>() + prompt.size(), ids.data<int64_t>() + ids.numel());
  auto tok = Tokenizer::Load(model.dir());
  if (!tok.ok()) {
    out.note = tok.status().message();
    return out;
  }
  ACCEL_ASSIGN_OR_RETURN(out.text, (*tok)->Decode(out.ids, /*skip_special_tokens=*/true));
  return out;
}

}  // namespace accel::runtime
