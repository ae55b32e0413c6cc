#include "cli/text_codec.h"

#if __has_include("tokenizers/tokenizer.h")
#include "tokenizers/tokenizer.h"
#define ACCEL_HAVE_TOKENIZERS 1
#endif

namespace accel::cli {

#ifdef ACCEL_HAVE_TOKENIZERS
namespace {
class TokenizerCodec final : public TextCodec {
 public:
  explicit TokenizerCodec(std::unique_ptr<Tokenizer> t) : tok_(std::move(t)) {}
  Result<std::vector<int64_t>> Encode(const std::string& text, bool add_special_tokens) const override {
    ACCEL_ASSIGN_OR_RETURN(Encoding e, tok_->Encode(text, add_special_tokens));
    return e.ids;
  }
  Result<std::string> Decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const override {
    return tok_->Decode(ids, skip_special_tokens);
  }

 private:
  std::unique_ptr<Tokenizer> tok_;
};
}  // namespace

Result<std::unique_ptr<TextCodec>> LoadTextCodec(const std::string& model_dir) {
  ACCEL_ASSIGN_OR_RETURN(auto tok, Tokenizer::Load(model_dir));
  return std::unique_ptr<TextCodec>(new TokenizerCodec(std::move(tok)));
}
#else
Result<std::unique_ptr<TextCodec>> LoadTextCodec(const std::string& model_dir) {
  return Unsupported("text prompts need the tokenizer library, which this build does not include; pass --prompt-ids");
}
#endif

}  // namespace accel::cli
