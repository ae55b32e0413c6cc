// accel transcribe: speech to text with a Whisper or Wav2Vec2 (CTC) model folder.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "runtime/speech_pipeline.h"

namespace accel::cli {
namespace {
struct TranscribeArgs {
  std::string model, audio, language = "<|en|>", task = "transcribe";
  int64_t max_new_tokens = 128;
  bool json = false;
};

Action SetupTranscribe(CLI::App& app) {
  auto a = std::make_shared<TranscribeArgs>();
  app.add_option("--model", a->model, "Whisper or Wav2Vec2ForCTC model folder or HF id")->required();
  app.add_option("audio", a->audio, "audio file (WAV, FLAC, OGG; any rate, mono or stereo)")->required();
  app.add_option("--language", a->language, "Whisper language token, e.g. <|en|>");
  app.add_option("--task", a->task, "Whisper task: transcribe or translate");
  app.add_option("--max-new-tokens", a->max_new_tokens, "Whisper generation limit");
  app.add_flag("--json", a->json, "print ids and text as JSON");
  return [a] {
    auto model = LoadedModel::Load(a->model);
    if (!model.ok()) return ReportError(model.status());
    runtime::TranscribeOptions o;
    o.language = a->language;
    o.task = a->task;
    o.max_new_tokens = a->max_new_tokens;
    auto t = runtime::Transcribe(**model, a->audio, o);
    if (!t.ok()) return ReportError(t.status());
    if (a->json) {
      nlohmann::json j = {{"ids", t->ids}, {"text", t->text}};
      if (!t->note.empty()) j["note"] = t->note;
      std::printf("%s\n", j.dump().c_str());
    } else if (t->text.empty() && !t->note.empty()) {
      std::printf("%s\n", nlohmann::json(t->ids).dump().c_str());
      std::fprintf(stderr, "accel: ids only: %s\n", t->note.c_str());
    } else {
      std::printf("%s\n", t->text.c_str());
    }
    return kExitOk;
  };
}
}  // namespace
ACCEL_REGISTER_COMMAND("transcribe", "speech to text with a Whisper or Wav2Vec2 model", SetupTranscribe);
}  // namespace accel::cli
