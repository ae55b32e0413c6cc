#pragma once
// What every C API entry point shares: the per-thread last error, Status -> accel_status, the
// guard that keeps exceptions from crossing the API, and the registry of live model handles.
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "accel/accel.h"
#include "core/status.h"
#include "runtime/text_model.h"

struct accel_model {
  std::unique_ptr<accel::TextModel> text;
  std::string device;
  std::mutex mu;                      // one call at a time per model
  std::atomic<bool> generating{false};  // a generation is running (cancel applies to it)
  std::atomic<bool> cancel{false};
};

struct accel_tensors {
  std::vector<std::string> names;
  std::vector<accel::Tensor> tensors;  // host, contiguous
};

namespace accel::capi {

// Records `message` as this thread's last error and returns `code`.
accel_status Fail(accel_status code, std::string message);
accel_status Fail(const Status& status);
// Clears the last error and returns ACCEL_OK.
accel_status Ok();

// Runs `body` (returning accel_status), turning any exception into ACCEL_ERR_OUT_OF_MEMORY or
// ACCEL_ERR_INTERNAL with its message: nothing is thrown across the C API.
template <typename Body>
accel_status Guard(const char* function, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(ACCEL_ERR_OUT_OF_MEMORY, std::string(function) + ": out of memory");
  } catch (const std::exception& e) {
    return Fail(ACCEL_ERR_INTERNAL, std::string(function) + ": " + e.what());
  } catch (...) {
    return Fail(ACCEL_ERR_INTERNAL, std::string(function) + ": unknown error");
  }
}

// A malloc'd NUL-terminated copy (freed by accel_string_free), or nullptr when out of memory.
char* CopyString(std::string_view s);

// Live handles: accel_model_free and every call check that a handle is one of these.
void RegisterModel(accel_model* m);
bool UnregisterModel(accel_model* m);
// The model if `m` is live, else records the error and returns nullptr.
accel_model* LiveModel(accel_model* m, const char* function);

}  // namespace accel::capi
