#pragma once
// Writes GGUF v3 files (the format formats/gguf.h reads): typed metadata, then tensor infos,
// then the aligned data section, streamed to disk tensor by tensor so a multi-gigabyte model is
// never copied into one buffer. Metadata values are typed explicitly because readers such as
// llama.cpp reject a key whose type differs from the one they expect (u32 counts, f32 epsilons).
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tensor.h"

namespace accel {

class GgufWriter {
 public:
  GgufWriter& SetU32(const std::string& key, uint32_t v);
  GgufWriter& SetI32(const std::string& key, int32_t v);
  GgufWriter& SetI64(const std::string& key, int64_t v);
  GgufWriter& SetF32(const std::string& key, float v);
  GgufWriter& SetBool(const std::string& key, bool v);
  GgufWriter& SetString(const std::string& key, const std::string& v);
  GgufWriter& SetStrings(const std::string& key, const std::vector<std::string>& v);
  GgufWriter& SetF32s(const std::string& key, const std::vector<float>& v);
  GgufWriter& SetI32s(const std::string& key, const std::vector<int32_t>& v);
  // A JSON scalar or array typed by its JSON kind: integers as i64 (u32 when `u32`), floats as
  // f32, strings, bools; arrays take their elements' type from the first element.
  Status SetJson(const std::string& key, const nlohmann::json& v, bool u32 = false);

  // The tensor's bytes are read when Write() runs: the tensor (or its owner) must stay alive.
  Status AddTensor(const std::string& name, const Tensor& t);

  // Data alignment (general.alignment, written when not 32); a power of two.
  Status SetAlignment(uint32_t alignment);
  Status Write(const std::string& path) const;

  size_t tensor_count() const { return tensors_.size(); }
  bool HasKey(const std::string& key) const { return keys_.count(key) != 0; }

 private:
  void Key(const std::string& key, uint32_t type);
  std::string kv_;  // encoded key/value pairs
  uint64_t kv_count_ = 0;
  std::set<std::string> keys_;
  Status error_ = Status::Ok();  // the first duplicate key, reported by Write()
  std::vector<std::pair<std::string, Tensor>> tensors_;
  std::set<std::string> tensor_names_;
  uint32_t alignment_ = 32;
};

// Writes a GGUF v3 file: metadata values typed from JSON (see SetJson; keys listed in `u32_keys`
// are u32), tensors as given.
Status WriteGguf(const std::string& path, const std::vector<std::pair<std::string, nlohmann::json>>& metadata,
                 const std::vector<std::pair<std::string, Tensor>>& tensors, const std::vector<std::string>& u32_keys = {});

}  // namespace accel
