#pragma once
// "loading llama-1b: 42% of 2.3 GiB" on stderr while a model converts its weights, redrawn in
// place and erased when the load ends, so the terminal keeps only results. Nothing is drawn
// when stderr is not a terminal (pipes, logs, CI) or under --quiet.
#include <chrono>
#include <cstdint>
#include <string>

#include "formats/model_source.h"
#include "runtime/loaded_model.h"

namespace accel::cli {

class LoadProgress {
 public:
  // `model` is what the user named (a folder, an HF id, a .gguf); its last part is shown.
  explicit LoadProgress(const std::string& model);
  ~LoadProgress() { Finish(); }
  LoadProgress(const LoadProgress&) = delete;
  LoadProgress& operator=(const LoadProgress&) = delete;

  // For LoadOptions::on_progress; empty when nothing is to be drawn. Valid while this lives.
  WeightStore::ProgressFn Callback();
  // Erases the line, if one was drawn.
  void Finish();

 private:
  void Draw(uint64_t done, uint64_t total);

  std::string name_;
  bool enabled_ = false;
  bool drawn_ = false;
  int last_percent_ = -1;
  std::chrono::steady_clock::time_point last_draw_{};
};

// LoadedModel::Load with the progress line drawn while it runs: how every command loads a model.
Result<std::unique_ptr<LoadedModel>> LoadModelShowingProgress(const std::string& model, LoadOptions options);

}  // namespace accel::cli
