// accel transcribe: speech to text with a Whisper or Wav2Vec2 (CTC) model folder.
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_flags.h"
#include "cli/load_progress.h"
#include "core/log.h"
#include "runtime/speech_pipeline.h"

namespace accel::cli {
namespace {
struct TranscribeArgs {
  std::string model, audio, language, task;
  int64_t max_new_tokens = 128;
  bool timestamps = false;
  bool json = false;
  std::string device = "auto";
};

// Seconds with HF's two decimals (time_precision 0.02), as a JSON number.
double Seconds(double s) { return std::round(s * 100.0) / 100.0; }

Action SetupTranscribe(CLI::App& app) {
  auto a = std::make_shared<TranscribeArgs>();
  AddModelOption(app, a->model, "Whisper or Wav2Vec2ForCTC model folder or HF id")->required();
  app.add_option("audio", a->audio, "audio file (WAV, FLAC, OGG; any rate, mono or stereo)")->required();
  app.add_option("--language", a->language,
                 "Whisper language, e.g. de or <|de|> (default: the model's generation config, else detected)");
  app.add_option("--task", a->task, "Whisper task: transcribe or translate (default: the model's generation config)");
  app.add_flag("--timestamps", a->timestamps, "Whisper: decode with timestamp tokens and print timed segments");
  app.add_option("-n,--max-new-tokens", a->max_new_tokens, "Whisper generation limit");
  app.add_flag("--json", a->json, "print ids, text, language and segments as JSON");
  AddDeviceOption(app, a->device);
  return [a] {
    Status kind = ExpectFileKind(a->audio, {"a WAV audio file", "a FLAC audio file", "an Ogg audio file"},
                                 "an audio file (WAV, FLAC or OGG)");
    if (!kind.ok()) return ReportError(kind);
    LoadOptions lo;
    lo.device = a->device;
    auto model = LoadModelShowingProgress(a->model, lo);
    if (!model.ok()) return ReportError(model.status());
    runtime::TranscribeOptions o;
    o.language = a->language;
    o.task = a->task;
    o.timestamps = a->timestamps;
    o.max_new_tokens = a->max_new_tokens;
    auto t = runtime::Transcribe(**model, a->audio, o);
    if (!t.ok()) return ReportError(t.status());
    if (a->json) {
      nlohmann::json j = {{"ids", t->ids}, {"text", t->text}};
      if (!t->language.empty()) j["language"] = t->language;
      if (t->timestamps) {
        j["segments"] = nlohmann::json::array();
        for (const auto& s : t->segments) {
          j["segments"].push_back({{"start", Seconds(s.start)}, {"end", Seconds(s.end)}, {"text", s.text}, {"ids", s.ids}});
        }
      }
      if (!t->note.empty()) j["note"] = t->note;
      std::printf("%s\n", j.dump().c_str());
      return kExitOk;
    }
    if (t->timestamps) {
      // One line per segment: "[start -> end] text" (ids when there is no tokenizer).
      for (const auto& s : t->segments) {
        const std::string body = t->text.empty() && !t->note.empty() ? nlohmann::json(s.ids).dump() : s.text;
        std::printf("[%.2f -> %.2f]%s%s\n", s.start, s.end, body.rfind(' ', 0) == 0 ? "" : " ", body.c_str());
      }
      if (!t->note.empty()) log::Warn("ids only: " + t->note);
      return kExitOk;
    }
    if (t->text.empty() && !t->note.empty()) {
      std::printf("%s\n", nlohmann::json(t->ids).dump().c_str());
      log::Warn("ids only: " + t->note);
    } else {
      std::printf("%s\n", t->text.c_str());
    }
    return kExitOk;
  };
}
}  // namespace
ACCEL_REGISTER_COMMAND("transcribe", "speech to text with a Whisper or Wav2Vec2 model", SetupTranscribe);
}  // namespace accel::cli
