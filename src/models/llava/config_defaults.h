#pragma once
// The values HF's config classes (LlavaConfig, LlavaNextConfig, LlamaConfig, CLIPVisionConfig)
// give the keys a LLaVA config.json may omit. Hub configs written by older transformers rely on
// them (e.g. a text_config with only vocab_size and a few sizes). Kept as one data table so it can
// move into the general per-type config-defaults table of src/formats when that lands.
#include "formats/hf_config.h"

namespace accel::llava {

// `c` with every absent key of the tables filled in (nested text_config / vision_config included;
// num_key_value_heads and head_dim derived as LlamaConfig derives them). Present keys are kept.
HfConfig WithHfDefaults(const HfConfig& c);

}  // namespace accel::llava
