#include "core/dtype.h"

#include <array>
#include <limits>

namespace accel {

namespace {
constexpr std::array<DTypeInfo, 19> kInfos = {{
    {"f32", 1, 4, true, false},
    {"f16", 1, 2, true, false},
    {"bf16", 1, 2, true, false},
    {"f64", 1, 8, true, false},
    {"i64", 1, 8, false, false},
    {"i32", 1, 4, false, false},
    {"i16", 1, 2, false, false},
    {"i8", 1, 1, false, false},
    {"u8", 1, 1, false, false},
    {"bool", 1, 1, false, false},
    {"q8_0", 32, 34, true, true},
    {"q4_0", 32, 18, true, true},
    {"q4_k", 256, 144, true, true},
    {"q5_k", 256, 176, true, true},
    {"q6_k", 256, 210, true, true},
    {"q3_k", 256, 110, true, true},
    {"q2_k", 256, 84, true, true},
    {"iq4_nl", 32, 18, true, true},
    {"iq4_xs", 256, 136, true, true},
}};
}  // namespace

const DTypeInfo& Info(DType t) { return kInfos[static_cast<size_t>(t)]; }

std::optional<size_t> BytesFor(DType t, size_t n) {
  const DTypeInfo& info = Info(t);
  if (n % info.block_elems != 0) return std::nullopt;
  size_t blocks = n / info.block_elems;
  if (blocks != 0 && info.block_bytes > std::numeric_limits<size_t>::max() / blocks) return std::nullopt;
  return blocks * info.block_bytes;
}

std::optional<DType> DTypeFromSafetensors(std::string_view s) {
  if (s == "F32") return DType::kF32;
  if (s == "F16") return DType::kF16;
  if (s == "BF16") return DType::kBF16;
  if (s == "F64") return DType::kF64;
  if (s == "I64") return DType::kI64;
  if (s == "I32") return DType::kI32;
  if (s == "I16") return DType::kI16;
  if (s == "I8") return DType::kI8;
  if (s == "U8") return DType::kU8;
  if (s == "BOOL") return DType::kBool;
  return std::nullopt;
}

}  // namespace accel
