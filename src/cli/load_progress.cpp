#include "cli/load_progress.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "core/log.h"
#include "core/units.h"

namespace accel::cli {

namespace {

// Redraws at most this often: a 70 B model takes ~700 tensors, a terminal needs far fewer frames.
constexpr std::chrono::milliseconds kRedrawEvery{100};

std::string ShownName(const std::string& model) {
  std::string trimmed = model;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  std::string name = std::filesystem::path(trimmed).filename().string();
  return name.empty() ? trimmed : name;
}

}  // namespace

LoadProgress::LoadProgress(const std::string& model)
    : name_(ShownName(model)), enabled_(isatty(STDERR_FILENO) == 1 && log::Enabled(log::Level::kInfo)) {}

WeightStore::ProgressFn LoadProgress::Callback() {
  if (!enabled_) return {};
  return [this](uint64_t done, uint64_t total) { Draw(done, total); };
}

void LoadProgress::Draw(uint64_t done, uint64_t total) {
  if (total == 0) return;
  const int percent = static_cast<int>(done * 100 / total);
  const auto now = std::chrono::steady_clock::now();
  // The first frame at once (a slow first tensor still shows what is happening), then only
  // when the figure changes and the last frame is old enough.
  if (drawn_ && (percent == last_percent_ || now - last_draw_ < kRedrawEvery)) return;
  std::fprintf(stderr, "\r\033[Kloading %s: %d%% of %s", name_.c_str(), percent,
               FormatBytes(static_cast<int64_t>(total)).c_str());
  std::fflush(stderr);
  drawn_ = true;
  last_percent_ = percent;
  last_draw_ = now;
}

void LoadProgress::Finish() {
  if (!drawn_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

Result<std::unique_ptr<LoadedModel>> LoadModelShowingProgress(const std::string& model, LoadOptions options) {
  LoadProgress progress(model);
  options.on_progress = progress.Callback();
  return LoadedModel::Load(model, options);
}

}  // namespace accel::cli
