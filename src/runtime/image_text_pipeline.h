#pragma once
// Vision-language generation (LLaVA, LLaVA-NeXT): an image file becomes the model's image
// inputs as the folder's preprocessor_config.json says (CLIPImageProcessor; for anyres models
// LlavaNextImageProcessor's base tile + grid tiles and image_sizes), the prompt's image
// placeholder is expanded to the model's image-token count, and ImagePromptLm lets the
// generation loop (runtime/generation) prefill with the image and decode as usual.
#include <memory>
#include <string>
#include <vector>

#include "models/image_text_lm.h"
#include "preprocess/image.h"
#include "runtime/loaded_model.h"

namespace accel::runtime {

struct ImageInputs {
  TensorMap tensors;  // pixel_values [1, 3, H, W] or [1, tiles, 3, H, W] (+ image_sizes [1, 2])
  int64_t height = 0, width = 0;  // the decoded image
};

// Decodes and preprocesses one image for `model` (which must be an ImageTextLm).
Result<ImageInputs> PrepareImage(LoadedModel& model, const std::string& image_path, const preprocess::DecodeOptions& decode = {});
// The same from a decoded image and the folder's preprocessor_config.json (parsed).
Result<ImageInputs> PrepareImage(const preprocess::Image& image, const nlohmann::json& preprocessor_config,
                                 const std::string& label, const std::vector<std::pair<int64_t, int64_t>>& grid_pinpoints);

// `ids` with its one image placeholder (`image_token`) repeated `count` times, as HF's
// processors expand "<image>". A prompt without one gets it after a leading BOS (`bos`, or at
// the start); more than one is an error (one image per prompt).
Result<std::vector<int64_t>> ExpandImageTokens(const std::vector<int64_t>& ids, int64_t image_token, int64_t count, int64_t bos);

// A CausalLm whose prefill (the first step into an empty cache) carries `images`.
class ImagePromptLm final : public CausalLm {
 public:
  ImagePromptLm(ImageTextLm& model, TensorMap images) : model_(model), images_(std::move(images)) {}
  int64_t vocab_size() const override { return model_.language_model().vocab_size(); }
  int64_t max_positions() const override { return model_.language_model().max_positions(); }
  const std::vector<int64_t>& eos_token_ids() const override { return model_.language_model().eos_token_ids(); }
  Result<std::unique_ptr<decoder::KvCache>> NewCache(Exec& ex, int64_t batch, int64_t capacity,
                                                    DType kv_dtype = DType::kF32) override {
    return model_.language_model().NewCache(ex, batch, capacity, kv_dtype);
  }
  Result<Tensor> Step(Exec& ex, decoder::KvCache& cache, const Tensor& ids, const std::vector<uint8_t>& mask,
                      bool all_logits = false) override;

 private:
  ImageTextLm& model_;
  TensorMap images_;
};

}  // namespace accel::runtime
