// config.json parsing (with HF's class defaults filled in) and typed access never crash on
// arbitrary input.
#include <cstdint>
#include <string_view>

#include "formats/hf_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = accel::HfConfig::Parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  if (!r.ok()) return 0;
  (void)r->model_type();
  (void)r->architecture();
  (void)r->Int({"hidden_size", "dim"});
  (void)r->Float({"layer_norm_eps"});
  (void)r->IntOr("num_hidden_layers", 1);
  (void)r->Sub("text_config").StringOr("model_type", "");
  (void)r->Sub("vision_config").Describe("hidden_size");
  (void)r->Contradiction("hidden_size", "is not divisible by", "num_attention_heads");
  return 0;
}
