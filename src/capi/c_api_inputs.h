#pragma once
// What the C API reads from its callers before any model sees it: dtypes, tensor views copied
// into owning tensors, and text that must be UTF-8. Depends on the core only, so that
// fuzz/fuzz_capi_inputs.cpp drives exactly this code.
#include <cstddef>
#include <string_view>

#include "accel/accel.h"
#include "models/model.h"  // TensorMap

namespace accel::capi {

Result<DType> FromCDType(accel_dtype d);
// Copies the caller's views into owning tensors: the model may keep nothing that points at them.
Result<TensorMap> InputsFromViews(const accel_tensor_view* views, size_t count);
// Truncated sequences, overlong forms and surrogates are not.
bool IsValidUtf8(std::string_view s);

}  // namespace accel::capi
