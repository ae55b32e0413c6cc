#include "capi/c_api_support.h"

#include <cstdlib>
#include <unordered_set>

namespace accel::capi {
namespace {

thread_local std::string last_error;

std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}
std::unordered_set<accel_model*>& Registry() {
  static auto* live = new std::unordered_set<accel_model*>();  // outlives static destructors
  return *live;
}

accel_status FromCode(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return ACCEL_OK;
    case StatusCode::kInvalidArgument: return ACCEL_ERR_INVALID_ARGUMENT;
    case StatusCode::kNotFound: return ACCEL_ERR_NOT_FOUND;
    case StatusCode::kCorrupt: return ACCEL_ERR_CORRUPT;
    case StatusCode::kUnsupported: return ACCEL_ERR_UNSUPPORTED;
    case StatusCode::kOutOfMemory: return ACCEL_ERR_OUT_OF_MEMORY;
    case StatusCode::kIo: return ACCEL_ERR_IO;
    default: return ACCEL_ERR_INTERNAL;
  }
}

}  // namespace

accel_status Fail(accel_status code, std::string message) {
  last_error = std::move(message);
  return code;
}

accel_status Fail(const Status& status) { return Fail(FromCode(status.code()), status.message()); }

accel_status Ok() {
  last_error.clear();
  return ACCEL_OK;
}

char* CopyString(std::string_view s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (!out) return nullptr;
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  return out;
}

void RegisterModel(accel_model* m) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  Registry().insert(m);
}

bool UnregisterModel(accel_model* m) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  return Registry().erase(m) > 0;
}

accel_model* LiveModel(accel_model* m, const char* function) {
  if (!m) {
    Fail(ACCEL_ERR_INVALID_ARGUMENT, std::string(function) + ": the model handle is NULL");
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(RegistryMutex());
  if (!Registry().count(m)) {
    Fail(ACCEL_ERR_INVALID_ARGUMENT, std::string(function) + ": the model handle is not a live model (freed, or never loaded)");
    return nullptr;
  }
  return m;
}

}  // namespace accel::capi

using namespace accel::capi;

extern "C" {

const char* accel_last_error(void) { return last_error.c_str(); }

void accel_string_free(char* s) { std::free(s); }
void accel_ids_free(int64_t* ids) { std::free(ids); }

const char* accel_status_name(accel_status status) {
  switch (status) {
    case ACCEL_OK: return "ACCEL_OK";
    case ACCEL_ERR_INVALID_ARGUMENT: return "ACCEL_ERR_INVALID_ARGUMENT";
    case ACCEL_ERR_NOT_FOUND: return "ACCEL_ERR_NOT_FOUND";
    case ACCEL_ERR_UNSUPPORTED: return "ACCEL_ERR_UNSUPPORTED";
    case ACCEL_ERR_CORRUPT: return "ACCEL_ERR_CORRUPT";
    case ACCEL_ERR_OUT_OF_MEMORY: return "ACCEL_ERR_OUT_OF_MEMORY";
    case ACCEL_ERR_CANCELLED: return "ACCEL_ERR_CANCELLED";
    case ACCEL_ERR_INTERNAL: return "ACCEL_ERR_INTERNAL";
    case ACCEL_ERR_CHECK_FAILED: return "ACCEL_ERR_CHECK_FAILED";
    case ACCEL_ERR_IO: return "ACCEL_ERR_IO";
  }
  return "ACCEL_ERR_UNKNOWN";
}

}  // extern "C"
