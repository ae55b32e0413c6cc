#pragma once
// The defaults of Hugging Face's config classes (data: src/formats/config_defaults.json, embedded
// at build time). HF writes config.json without the keys that equal its class's default, so a
// reader that wants the values the model was built with has to put them back.
#include <string_view>

#include <nlohmann/json.hpp>

namespace accel {

// The defaults of one model_type (its "like" chain resolved), or null when the table does not
// know the type.
const nlohmann::json* ConfigClassDefaults(std::string_view model_type);

// Fills the keys `config` omits from its model_type's class defaults, then its nested configs
// (text_config, vision_config, audio_config, ...) from the nested model_type or the one HF gives
// that slot, creating a nested config HF would create. Keys present in the file, null included,
// always win; a key the file spells another way HF accepts (the type's "aliases") takes that
// value. Returns the same shape as `config` holding `true` for every key filled from a default,
// the alias's name for a key copied from one, objects for nested configs; {} when nothing was.
nlohmann::json ApplyConfigClassDefaults(nlohmann::json& config);

}  // namespace accel
