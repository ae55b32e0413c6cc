#include "cli/text_tokens.h"

#include "cli/common_flags.h"
#include "core/mapped_file.h"

namespace accel::cli {

void AddCorpusOptions(CLI::App& app, CorpusArgs& a, const std::string& what) {
  app.add_option("-f,--file", a.file, what + " (or token ids with --token-ids)")->required();
  app.add_option("-c,--ctx-size", a.ctx, "tokens per chunk; each chunk starts from an empty cache at BOS")->capture_default_str();
  app.add_option("--chunks", a.chunks, "use at most this many chunks (0: all)")->capture_default_str();
  app.add_flag("--token-ids", a.token_ids, "the file holds token ids (commas or spaces), for models without a tokenizer");
  AddDeviceOption(app, a.device);
}

Result<std::vector<int64_t>> FileTokens(TextModel& model, const CorpusArgs& a) {
  const std::string& file = a.file;
  ACCEL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(file));
  if (a.token_ids) {
    for (char& ch : text) {  // one id list however the file wraps its lines
      if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    ACCEL_ASSIGN_OR_RETURN(auto rows, ParseIdRows(text, file));
    std::vector<int64_t> ids;
    for (const auto& r : rows) ids.insert(ids.end(), r.begin(), r.end());
    return ids;
  }
  if (model.tokenizer() == nullptr) {
    return InvalidArgument("the model has no tokenizer: give " + file + " as token ids with --token-ids");
  }
  ACCEL_ASSIGN_OR_RETURN(Encoding enc, model.tokenizer()->Encode(text, /*add_special_tokens=*/false));
  return std::move(enc.ids);
}

ChunkOptions ChunksFor(TextModel& model, const CorpusArgs& a) {
  ChunkOptions o;
  o.ctx = a.ctx;
  o.max_chunks = a.chunks;
  const int64_t bos = model.model().config().IntOr("bos_token_id", -1);
  if (bos >= 0) o.bos = bos;
  return o;
}

}  // namespace accel::cli
