#include "capi/c_api_inputs.h"

#include <cstring>
#include <string>

#include <utf8proc.h>

namespace accel::capi {

Result<DType> FromCDType(accel_dtype d) {
  switch (d) {
    case ACCEL_DTYPE_F32: return DType::kF32;
    case ACCEL_DTYPE_I64: return DType::kI64;
    case ACCEL_DTYPE_I32: return DType::kI32;
    case ACCEL_DTYPE_F16: return DType::kF16;
    case ACCEL_DTYPE_BF16: return DType::kBF16;
  }
  return InvalidArgument("unknown accel_dtype " + std::to_string(static_cast<int>(d)));
}

Result<TensorMap> InputsFromViews(const accel_tensor_view* views, size_t count) {
  if (count > 0 && !views) return InvalidArgument("inputs is NULL but count is " + std::to_string(count));
  TensorMap inputs;
  for (size_t i = 0; i < count; ++i) {
    const accel_tensor_view& v = views[i];
    if (!v.name) return InvalidArgument("input " + std::to_string(i) + " has no name");
    const std::string label = "input '" + std::string(v.name) + "'";
    if (v.rank < 0 || v.rank > 8) return InvalidArgument(label + ": rank " + std::to_string(v.rank) + " (0..8)");
    if (v.rank > 0 && !v.shape) return InvalidArgument(label + ": shape is NULL");
    ACCEL_ASSIGN_OR_RETURN(DType dtype, FromCDType(v.dtype));
    Shape shape(v.shape, v.shape + v.rank);
    auto numel = NumElements(shape);
    if (!numel) return InvalidArgument(label + ": shape " + ShapeToString(shape) + " is negative or too large");
    if (*numel > 0 && !v.data) return InvalidArgument(label + ": data is NULL");
    ACCEL_ASSIGN_OR_RETURN(Tensor t, Tensor::Zeros(dtype, shape));
    if (t.nbytes() > 0) std::memcpy(t.raw(), v.data, t.nbytes());
    if (!inputs.emplace(v.name, std::move(t)).second) return InvalidArgument(label + " is given twice");
  }
  return inputs;
}

bool IsValidUtf8(std::string_view s) {
  // utf8proc_iterate refuses truncated sequences, overlong forms and surrogates.
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(s.size());
  while (left > 0) {
    utf8proc_int32_t cp;
    const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) return false;
    p += n;
    left -= n;
  }
  return true;
}

}  // namespace accel::capi
