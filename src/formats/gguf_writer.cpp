#include "formats/gguf_writer.h"

#include <algorithm>
#include <fstream>

#include "formats/gguf.h"

namespace accel {

namespace {

// GGUF value types (the reader's enum, gguf.cpp).
enum : uint32_t { kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7, kString = 8, kArray = 9, kI64 = 11 };
constexpr uint32_t kMagic = 0x46554747;  // "GGUF"

template <typename T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
void PutString(std::string& out, const std::string& s) {
  Put<uint64_t>(out, s.size());
  out += s;
}

}  // namespace

void GgufWriter::Key(const std::string& key, uint32_t type) {
  if (!keys_.insert(key).second && error_.ok()) error_ = InvalidArgument("GGUF writer: metadata key '" + key + "' set twice");
  PutString(kv_, key);
  Put<uint32_t>(kv_, type);
  ++kv_count_;
}

GgufWriter& GgufWriter::SetU32(const std::string& key, uint32_t v) {
  Key(key, kU32);
  Put(kv_, v);
  if (key == "general.alignment") alignment_ = v;
  return *this;
}
GgufWriter& GgufWriter::SetI32(const std::string& key, int32_t v) { return Key(key, kI32), Put(kv_, v), *this; }
GgufWriter& GgufWriter::SetI64(const std::string& key, int64_t v) { return Key(key, kI64), Put(kv_, v), *this; }
GgufWriter& GgufWriter::SetF32(const std::string& key, float v) { return Key(key, kF32), Put(kv_, v), *this; }
GgufWriter& GgufWriter::SetBool(const std::string& key, bool v) {
  return Key(key, kBool), Put<uint8_t>(kv_, v ? 1 : 0), *this;
}
GgufWriter& GgufWriter::SetString(const std::string& key, const std::string& v) {
  return Key(key, kString), PutString(kv_, v), *this;
}
GgufWriter& GgufWriter::SetStrings(const std::string& key, const std::vector<std::string>& v) {
  Key(key, kArray);
  Put<uint32_t>(kv_, kString);
  Put<uint64_t>(kv_, v.size());
  for (const auto& s : v) PutString(kv_, s);
  return *this;
}
GgufWriter& GgufWriter::SetF32s(const std::string& key, const std::vector<float>& v) {
  Key(key, kArray);
  Put<uint32_t>(kv_, kF32);
  Put<uint64_t>(kv_, v.size());
  for (float x : v) Put(kv_, x);
  return *this;
}
GgufWriter& GgufWriter::SetI32s(const std::string& key, const std::vector<int32_t>& v) {
  Key(key, kArray);
  Put<uint32_t>(kv_, kI32);
  Put<uint64_t>(kv_, v.size());
  for (int32_t x : v) Put(kv_, x);
  return *this;
}

Status GgufWriter::SetJson(const std::string& key, const nlohmann::json& v, bool u32) {
  auto scalar_type = [&](const nlohmann::json& x) -> Result<uint32_t> {
    if (x.is_boolean()) return kBool;
    if (x.is_number_integer()) return u32 ? kU32 : kI64;
    if (x.is_number_float()) return kF32;
    if (x.is_string()) return kString;
    return InvalidArgument("GGUF writer: metadata '" + key + "' has an unsupported value " + x.dump());
  };
  auto put = [&](uint32_t type, const nlohmann::json& x) {
    switch (type) {
      case kBool: Put<uint8_t>(kv_, x.get<bool>() ? 1 : 0); break;
      case kU32: Put<uint32_t>(kv_, x.get<uint32_t>()); break;
      case kI64: Put<int64_t>(kv_, x.get<int64_t>()); break;
      case kF32: Put<float>(kv_, x.get<float>()); break;
      default: PutString(kv_, x.get<std::string>()); break;
    }
  };
  // Everything is checked before the first byte is encoded, so a rejected value leaves no trace.
  if (v.is_array()) {
    // An empty array is written as an array of strings, the type readers expect for token lists.
    uint32_t elem = kString;
    if (!v.empty()) { ACCEL_ASSIGN_OR_RETURN(elem, scalar_type(v.front())); }
    for (const auto& x : v) {
      ACCEL_ASSIGN_OR_RETURN(uint32_t t, scalar_type(x));
      if (t != elem) return InvalidArgument("GGUF writer: metadata '" + key + "' mixes element types");
    }
    Key(key, kArray);
    Put<uint32_t>(kv_, elem);
    Put<uint64_t>(kv_, v.size());
    for (const auto& x : v) put(elem, x);
    return Status::Ok();
  }
  ACCEL_ASSIGN_OR_RETURN(uint32_t type, scalar_type(v));
  Key(key, type);
  put(type, v);
  if (key == "general.alignment" && type == kU32) alignment_ = v.get<uint32_t>();
  return Status::Ok();
}

Status GgufWriter::AddTensor(const std::string& name, const Tensor& t) {
  if (!GgmlTypeOf(t.dtype())) return InvalidArgument("GGUF writer: '" + name + "' is " + std::string(Name(t.dtype())) + ", which GGUF cannot hold here");
  if (t.rank() < 1 || t.rank() > 4) return InvalidArgument("GGUF writer: '" + name + "' has rank " + std::to_string(t.rank()));
  if (!tensor_names_.insert(name).second) return InvalidArgument("GGUF writer: tensor '" + name + "' added twice");
  tensors_.emplace_back(name, t);
  return Status::Ok();
}

Status GgufWriter::SetAlignment(uint32_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) return InvalidArgument("GGUF alignment must be a power of two");
  SetU32("general.alignment", alignment);
  return Status::Ok();
}

Status GgufWriter::Write(const std::string& path) const {
  ACCEL_RETURN_IF_ERROR(error_);
  const uint64_t align = alignment_;
  if (align == 0 || (align & (align - 1)) != 0) return InvalidArgument("GGUF writer: general.alignment must be a power of two");
  auto padded = [&](uint64_t n) { return (n + align - 1) / align * align; };
  std::string head;
  Put<uint32_t>(head, kMagic);
  Put<uint32_t>(head, 3);
  Put<uint64_t>(head, tensors_.size());
  Put<uint64_t>(head, kv_count_);
  head += kv_;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors_) {
    PutString(head, name);
    Put<uint32_t>(head, static_cast<uint32_t>(t.rank()));
    for (int d = t.rank() - 1; d >= 0; --d) Put<uint64_t>(head, static_cast<uint64_t>(t.dim(d)));  // innermost first
    Put<uint32_t>(head, *GgmlTypeOf(t.dtype()));
    Put<uint64_t>(head, offset);
    offset += padded(t.nbytes());
  }
  head.resize(padded(head.size()), '\0');
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return IoError(path + ": cannot create");
  f.write(head.data(), static_cast<std::streamsize>(head.size()));
  const std::string zeros(align, '\0');
  for (const auto& [name, t] : tensors_) {
    f.write(static_cast<const char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
    f.write(zeros.data(), static_cast<std::streamsize>(padded(t.nbytes()) - t.nbytes()));
  }
  f.flush();
  if (!f) return IoError(path + ": write failed (disk full?)");
  return Status::Ok();
}

Status WriteGguf(const std::string& path, const std::vector<std::pair<std::string, nlohmann::json>>& metadata,
                 const std::vector<std::pair<std::string, Tensor>>& tensors, const std::vector<std::string>& u32_keys) {
  GgufWriter w;
  for (const auto& [key, value] : metadata) {
    ACCEL_RETURN_IF_ERROR(w.SetJson(key, value, std::find(u32_keys.begin(), u32_keys.end(), key) != u32_keys.end()));
  }
  for (const auto& [name, t] : tensors) ACCEL_RETURN_IF_ERROR(w.AddTensor(name, t));
  return w.Write(path);
}

}  // namespace accel
