#include "registry/model_evidence.h"

#include <filesystem>

#include "core/file_kind.h"
#include "core/mapped_file.h"
#include "formats/model_source.h"

namespace accel::registry {

namespace fs = std::filesystem;

namespace {
// Small side files are optional: a missing or malformed one is just not evidence.
nlohmann::json ReadOptionalJson(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec) || fs::file_size(p, ec) > (16u << 20)) return nullptr;
  auto text = ReadFileToString(p.string());
  if (!text.ok()) return nullptr;
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() || !j.is_object() ? nlohmann::json(nullptr) : j;
}
}  // namespace

ModelEvidence EvidenceFromConfig(HfConfig config, std::string name) {
  ModelEvidence e;
  e.spec = std::move(name);
  e.config = std::move(config);
  return e;
}

Result<ModelEvidence> GatherEvidence(const std::string& spec) {
  std::error_code ec;
  fs::path path(spec);
  ModelEvidence e;
  e.spec = spec;
  if (fs::is_regular_file(path, ec)) {
    const std::string kind = DescribeFileKind(spec);
    if (kind != "a JSON file") {
      return InvalidArgument(spec + " is " + (kind.empty() ? "not a JSON file" : kind) +
                             "; expected a model folder, its config.json, or a Hugging Face id");
    }
    ACCEL_ASSIGN_OR_RETURN(e.config, HfConfig::Load(spec));
    return e;
  }
  ACCEL_ASSIGN_OR_RETURN(e.dir, ResolveModelDir(spec));
  fs::path config = fs::path(e.dir) / "config.json";
  if (!fs::exists(config, ec)) {
    // HF cache snapshots are symlinks into blobs/; a dangling one is a half-finished download.
    if (fs::is_symlink(config, ec)) return NotFound(config.string() + ": broken symlink (incomplete download?)");
    return NotFound(e.dir + ": no config.json");
  }
  ACCEL_ASSIGN_OR_RETURN(e.config, HfConfig::Load(config.string()));
  for (fs::directory_iterator it(e.dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code fec;
    if (fs::is_regular_file(it->path(), fec)) e.files.insert(it->path().filename().string());
  }
  e.preprocessor = ReadOptionalJson(fs::path(e.dir) / "preprocessor_config.json");
  e.tokenizer_config = ReadOptionalJson(fs::path(e.dir) / "tokenizer_config.json");
  return e;
}

}  // namespace accel::registry
