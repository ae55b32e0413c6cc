#pragma once
// What a file is, from its first bytes (and, where formats have no magic, its name), so that a
// file given where another kind was expected is answered with both: "x.gguf is a GGUF model
// file; classify expects a model folder, its config.json, or a Hugging Face id".
#include <string>

namespace accel {

// "a GGUF model file", "a safetensors weights file", "a JSON file", "a PNG image", "a WAV
// audio file", "an SQLite database", "a folder", ... ; "" when the kind is not recognised or
// the path cannot be read.
std::string DescribeFileKind(const std::string& path);

}  // namespace accel
