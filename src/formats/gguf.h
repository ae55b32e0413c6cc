#pragma once
// GGUF (llama.cpp's single-file format, versions 2 and 3): "GGUF", version, tensor and
// metadata counts, typed key/value metadata, tensor infos (name, dims innermost first, ggml
// type, offset), then the aligned data section. Parse() validates every count, length,
// type, dimension and offset against the file size before anything is used.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tensor.h"

namespace accel {

struct GgufTensorInfo {
  DType dtype;
  Shape shape;    // row-major, outermost first (GGUF's dims reversed)
  size_t offset;  // from the start of the data section
  size_t size;
};

class GgufFile {
 public:
  static Result<std::shared_ptr<GgufFile>> Open(const std::string& path);
  static Result<std::shared_ptr<GgufFile>> Parse(const uint8_t* data, size_t size, const std::string& label,
                                                 std::shared_ptr<const void> owner);

  const std::string& label() const { return label_; }
  uint32_t version() const { return version_; }
  // Metadata values as JSON (integers, floats, bools, strings, arrays).
  const nlohmann::json& metadata() const { return metadata_; }
  // The GGUF value type of a key (4 u32, 5 i32, 6 f32, 8 string, 9 array, 11 i64, ...), -1 when
  // absent: llama.cpp rejects a key of an unexpected type, so exporters are tested on types.
  int metadata_type(const std::string& key) const {
    auto it = metadata_types_.find(key);
    return it == metadata_types_.end() ? -1 : static_cast<int>(it->second);
  }
  const std::map<std::string, GgufTensorInfo>& tensors() const { return tensors_; }
  // A zero-copy view into the file (quantized tensors keep their block dtype).
  Result<Tensor> Get(const std::string& name) const;

 private:
  std::string label_;
  uint32_t version_ = 0;
  nlohmann::json metadata_ = nlohmann::json::object();
  std::map<std::string, uint32_t> metadata_types_;
  std::map<std::string, GgufTensorInfo> tensors_;
  const uint8_t* data_ = nullptr;
  std::shared_ptr<const void> owner_;
};

// ggml type ids <-> dtypes (F32 0, F16 1, Q4_0 2, Q8_0 8, Q4_K 12, Q5_K 13, Q6_K 14, Q2_K 10, Q3_K 11, IQ4_NL 20, IQ4_XS 23,
// BF16 30).
std::optional<DType> DTypeFromGgml(uint32_t type);
std::optional<uint32_t> GgmlTypeOf(DType t);

}  // namespace accel
