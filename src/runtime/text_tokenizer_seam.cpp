#include "runtime/text_tokenizer_seam.h"

#include <memory>

#if __has_include("tokenizers/tokenizer.h")
#include "tokenizers/tokenizer.h"
#define ACCEL_HAVE_TOKENIZER 1
#endif

namespace accel {

Result<TextTokenizer> LoadTextTokenizer(const std::string& model_dir) {
#ifdef ACCEL_HAVE_TOKENIZER
  ACCEL_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> loaded, Tokenizer::Load(model_dir));
  std::shared_ptr<Tokenizer> tok(std::move(loaded));
  TextTokenizer t;
  t.encode = [tok](const std::string& text) -> Result<TextTokens> {
    ACCEL_ASSIGN_OR_RETURN(auto enc, tok->Encode(text));
    return TextTokens{enc.ids, enc.attention_mask};
  };
  t.decode = [tok](const std::vector<int64_t>& ids) { return tok->Decode(ids, true); };
  return t;
#else
  return Unsupported(model_dir + ": text tokenization is not built into this binary (needs src/tokenizers)");
#endif
}

}  // namespace accel
