#pragma once
// safetensors: 8-byte little-endian header length, a JSON header mapping names to
// {dtype, shape, data_offsets}, then the raw bytes. Parse() validates everything a hostile
// file could get wrong (lengths past EOF, non-JSON, overlapping or out-of-range offsets,
// unknown dtypes, shapes that disagree with byte counts) before any tensor is touched.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "core/tensor.h"

namespace accel {

struct SafetensorsEntry {
  DType dtype;
  Shape shape;
  size_t offset;  // from the start of the data section
  size_t size;
};

class SafetensorsFile {
 public:
  // Maps and validates `path`.
  static Result<std::shared_ptr<SafetensorsFile>> Open(const std::string& path);
  // Validates an in-memory image (the fuzz target's entry point); `label` names it in errors.
  static Result<std::shared_ptr<SafetensorsFile>> Parse(const uint8_t* data, size_t size, const std::string& label,
                                                        std::shared_ptr<const void> owner);

  const std::string& path() const { return label_; }
  const std::map<std::string, SafetensorsEntry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool Has(const std::string& name) const { return entries_.count(name) != 0; }

  // A zero-copy view when the bytes are aligned for the dtype, else an aligned copy.
  Result<Tensor> Get(const std::string& name) const;

 private:
  std::string label_;
  const uint8_t* data_ = nullptr;  // start of the data section
  std::shared_ptr<const void> owner_;
  std::map<std::string, SafetensorsEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

// Writes tensors as a safetensors file (used by tests, fixtures tooling and the benchmarks).
Status WriteSafetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors);

}  // namespace accel
