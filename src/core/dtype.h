#pragma once
// Element types. Plain types have a fixed size per element; block-quantized types (GGUF's
// Q8_0, Q4_0, ...) store `block_elems` elements in `block_bytes` bytes, so every size
// computation goes through BytesFor() and never multiplies by an element size directly.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace accel {

enum class DType : uint8_t {
  kF32,
  kF16,
  kBF16,
  kF64,
  kI64,
  kI32,
  kI16,
  kI8,
  kU8,
  kBool,
  kQ8_0,  // blocks of 32: fp16 scale + 32 x int8            (34 bytes)
  kQ4_0,  // blocks of 32: fp16 scale + 16 bytes of nibbles   (18 bytes)
  // GGUF K-quants, super-blocks of 256 (layouts in formats/kquants.h)
  kQ4_K,  // 4-bit, 8 sub-blocks of 32 with 6-bit scales and mins (144 bytes)
  kQ5_K,  // 5-bit, as Q4_K plus one high bit per weight          (176 bytes)
  kQ6_K,  // 6-bit, 16 sub-blocks of 16 with int8 scales           (210 bytes)
  kQ3_K,  // 3-bit, 16 sub-blocks of 16 with 6-bit scales          (110 bytes)
  kQ2_K,  // 2-bit, 16 sub-blocks of 16 with 4-bit scales and mins (84 bytes)
  kIQ4_NL,  // blocks of 32: fp16 scale + 16 bytes of indices into a non-linear 4-bit grid (18 bytes)
  kIQ4_XS,  // super-blocks of 256: IQ4_NL's grid with 6-bit scales per 32 under one fp16 (136 bytes)
};

struct DTypeInfo {
  std::string_view name;  // lower-case, as printed ("f32", "q4_0")
  size_t block_elems;     // 1 for plain types
  size_t block_bytes;     // bytes of one block (element size for plain types)
  bool is_float;
  bool is_quantized;
};

const DTypeInfo& Info(DType t);
inline std::string_view Name(DType t) { return Info(t).name; }

// Bytes needed for `n` elements; nullopt if `n` is not a whole number of blocks or overflows.
std::optional<size_t> BytesFor(DType t, size_t n);

// Parses the safetensors spelling ("F32", "BF16", "I64", ...).
std::optional<DType> DTypeFromSafetensors(std::string_view s);

}  // namespace accel
