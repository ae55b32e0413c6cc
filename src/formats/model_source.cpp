#include "formats/model_source.h"

#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/file_kind.h"
#include "core/log.h"
#include "core/mapped_file.h"

namespace accel {

namespace fs = std::filesystem;

std::string HfHubCacheDir() {
  if (const char* c = std::getenv("HF_HUB_CACHE"); c && *c) return c;
  if (const char* h = std::getenv("HF_HOME"); h && *h) return std::string(h) + "/hub";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/huggingface/hub";
}

Result<std::string> ResolveModelDir(const std::string& spec) {
  std::error_code ec;
  if (fs::is_directory(spec, ec)) return spec;
  if (fs::exists(spec, ec)) {
    std::string kind = DescribeFileKind(spec);
    return InvalidArgument(spec + " is " + (kind.empty() ? "a file" : kind) +
                           "; expected a model folder (config.json + model.safetensors) or a Hugging Face id");
  }
  // "org/name", or an org-less id such as "gpt2" (the hub keeps those as models--gpt2).
  auto slash = spec.find('/');
  const bool orgless = slash == std::string::npos && !spec.empty() && spec.find_first_of("\\:") == std::string::npos &&
                       spec != "." && spec != "..";
  if (!orgless && (slash == std::string::npos || slash == 0 || slash + 1 == spec.size() ||
                   spec.find('/', slash + 1) != std::string::npos)) {
    return NotFound(spec + ": no such folder, and not an org/name Hugging Face id");
  }
  std::string cache = HfHubCacheDir();
  fs::path repo = fs::path(cache) / (orgless ? "models--" + spec
                                             : "models--" + spec.substr(0, slash) + "--" + spec.substr(slash + 1));
  fs::path snapshots = repo / "snapshots";
  if (!fs::is_directory(snapshots, ec)) {
    return NotFound(spec + ": no such file or folder, and no Hugging Face id '" + spec + "' in the cache at " + cache +
                    " (offline: nothing is downloaded)");
  }
  auto ref = ReadFileToString((repo / "refs" / "main").string());
  if (ref.ok()) {
    std::string rev = *ref;
    while (!rev.empty() && (rev.back() == '\n' || rev.back() == ' ')) rev.pop_back();
    if (fs::is_directory(snapshots / rev, ec)) {
      log::Debug("model '" + spec + "' is " + (snapshots / rev).string() + " (refs/main)");
      return (snapshots / rev).string();
    }
  }
  fs::path newest;
  fs::file_time_type newest_time;
  for (const auto& entry : fs::directory_iterator(snapshots, ec)) {
    if (!entry.is_directory()) continue;
    auto t = entry.last_write_time(ec);
    if (newest.empty() || t > newest_time) {
      newest = entry.path();
      newest_time = t;
    }
  }
  if (newest.empty()) return NotFound(spec + ": " + snapshots.string() + " has no snapshot");
  log::Debug("model '" + spec + "' is " + newest.string() + " (newest snapshot)");
  return newest.string();
}

Result<WeightStore> WeightStore::Open(const std::string& dir) {
  WeightStore store;
  store.label_ = dir;
  std::error_code ec;
  fs::path single = fs::path(dir) / "model.safetensors";
  fs::path index = fs::path(dir) / "model.safetensors.index.json";
  if (fs::exists(single, ec)) {
    ACCEL_ASSIGN_OR_RETURN(auto file, SafetensorsFile::Open(single.string()));
    for (const auto& [name, e] : file->entries()) store.by_name_[name] = file;
    return store;
  }
  if (!fs::exists(index, ec)) return NotFound(dir + ": no model.safetensors or model.safetensors.index.json");
  ACCEL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(index.string()));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object()) {
    return Corrupt(index.string() + ": not a JSON object with a weight_map");
  }
  std::map<std::string, std::shared_ptr<SafetensorsFile>> shards;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it.value().is_string()) return Corrupt(index.string() + ": weight_map['" + it.key() + "'] is not a file name");
    std::string shard = it.value().get<std::string>();
    if (shard.find('/') != std::string::npos || shard == "..") return Corrupt(index.string() + ": shard name '" + shard + "' is not a plain file name");
    auto& file = shards[shard];
    if (!file) {
      ACCEL_ASSIGN_OR_RETURN(file, SafetensorsFile::Open((fs::path(dir) / shard).string()));
    }
    if (!file->Has(it.key())) return Corrupt(index.string() + ": '" + it.key() + "' is not in shard " + shard);
    store.by_name_[it.key()] = file;
  }
  return store;
}

WeightStore WeightStore::FromTensors(std::map<std::string, Tensor> tensors, std::string label) {
  WeightStore store;
  store.in_memory_ = std::move(tensors);
  store.label_ = std::move(label);
  return store;
}

bool WeightStore::StripBasePrefix(const std::string& prefix) {
  const std::string p = prefix + ".";
  size_t with = 0, total = 0;
  for (const auto& n : Names()) {
    ++total;
    with += n.rfind(p, 0) == 0;
  }
  if (total == 0 || with * 2 < total) return false;
  std::map<std::string, std::shared_ptr<SafetensorsFile>> by_name;
  std::map<std::string, Tensor> in_memory;
  for (auto& [n, f] : by_name_) if (n.rfind(p, 0) == 0) by_name[n.substr(p.size())] = f;
  for (auto& [n, t] : in_memory_) if (n.rfind(p, 0) == 0) in_memory[n.substr(p.size())] = t;
  by_name_ = std::move(by_name);
  in_memory_ = std::move(in_memory);
  prefix_ = p;
  return true;
}

bool WeightStore::Has(const std::string& name) const { return by_name_.count(name) || in_memory_.count(name); }

uint64_t WeightStore::BytesOf(const std::string& name) const {
  if (auto it = in_memory_.find(name); it != in_memory_.end()) return it->second.nbytes();
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return 0;
  auto entry = it->second->entries().find(prefix_ + name);
  return entry == it->second->entries().end() ? 0 : entry->second.size;
}

void WeightStore::ReportTaken(const std::string& name) {
  if (!used_.insert(name).second || !progress_) return;
  if (progress_total_ == 0) {
    for (const auto& n : Names()) progress_total_ += BytesOf(n);
  }
  progress_done_ += BytesOf(name);
  progress_(progress_done_, progress_total_);
}

Result<Tensor> WeightStore::Get(const std::string& name) {
  if (auto it = in_memory_.find(name); it != in_memory_.end()) {
    ReportTaken(name);
    return it->second;
  }
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return NotFound(label_ + ": missing tensor '" + name + "'");
  ReportTaken(name);
  return it->second->Get(prefix_ + name);
}

Result<Tensor> WeightStore::Get(const std::string& name, const Shape& expected) {
  ACCEL_ASSIGN_OR_RETURN(Tensor t, Get(name));
  if (t.shape() != expected) {
    return Corrupt(label_ + ": tensor '" + name + "' has shape " + ShapeToString(t.shape()) + ", config implies " +
                   ShapeToString(expected));
  }
  return t;
}

std::vector<std::string> WeightStore::Names() const {
  std::vector<std::string> names;
  for (const auto& [n, f] : by_name_) names.push_back(n);
  for (const auto& [n, t] : in_memory_) names.push_back(n);
  return names;
}

std::vector<std::string> WeightStore::Unused() const {
  std::vector<std::string> out;
  for (const auto& n : Names()) {
    if (!used_.count(n)) out.push_back(n);
  }
  return out;
}

}  // namespace accel
