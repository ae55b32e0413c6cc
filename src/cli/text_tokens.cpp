#include "cli/text_tokens.h"

#include "cli/common_flags.h"
#include "core/mapped_file.h"

namespace accel::cli {

Result<std::vector<int64_t>> FileTokens(TextModel& model, const std::string& file, bool token_ids) {
  ACCEL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(file));
  if (token_ids) {
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

ChunkOptions ChunksFor(TextModel& model, int64_t ctx, int64_t max_chunks) {
  ChunkOptions o;
  o.ctx = ctx;
  o.max_chunks = max_chunks;
  const int64_t bos = model.model().config().IntOr("bos_token_id", -1);
  if (bos >= 0) o.bos = bos;
  return o;
}

}  // namespace accel::cli
