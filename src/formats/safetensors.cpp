#include "formats/safetensors.h"

#include <set>

#include <algorithm>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

namespace accel {

namespace {
using json = nlohmann::json;

// Largest header we accept; the format's own reference implementation uses 100 MB.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

std::string_view SafetensorsName(DType t) {
  switch (t) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kF64: return "F64";
    case DType::kI64: return "I64";
    case DType::kI32: return "I32";
    case DType::kI16: return "I16";
    case DType::kI8: return "I8";
    case DType::kU8: return "U8";
    case DType::kBool: return "BOOL";
    default: return "";
  }
}
}  // namespace

Result<std::shared_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  ACCEL_ASSIGN_OR_RETURN(auto file, MappedFile::Open(path));
  const uint8_t* data = file->data();
  size_t size = file->size();
  return Parse(data, size, path, std::move(file));
}

Result<std::shared_ptr<SafetensorsFile>> SafetensorsFile::Parse(const uint8_t* data, size_t size,
                                                                const std::string& label,
                                                                std::shared_ptr<const void> owner) {
  auto fail = [&](const std::string& what) { return Corrupt(label + ": " + what); };
  if (size < 8) return fail("file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | data[i];
  if (header_len > kMaxHeaderBytes) return fail("header length " + std::to_string(header_len) + " exceeds the 100 MB limit");
  if (header_len > size - 8) {
    return fail("header length " + std::to_string(header_len) + " runs past the end of the file (" +
                std::to_string(size) + " bytes)");
  }
  const char* hbegin = reinterpret_cast<const char*>(data + 8);
  // The reference implementation (serde_json) refuses a byte-order mark and duplicate names; a
  // lenient parser would let the last of two entries for one tensor silently win.
  if (header_len >= 3 && std::memcmp(hbegin, "\xEF\xBB\xBF", 3) == 0) return fail("header starts with a byte-order mark");
  std::set<std::string> seen;
  std::string duplicate;
  json::parser_callback_t check_keys = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && parsed.is_string() && duplicate.empty() &&
        !seen.insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  };
  json header = json::parse(hbegin, hbegin + header_len, check_keys, /*allow_exceptions=*/false);
  if (header.is_discarded()) return fail("header is not valid JSON");
  if (!duplicate.empty())
    return fail("header names '" + (duplicate.size() > 120 ? duplicate.substr(0, 120) + "..." : duplicate) + "' twice");
  if (!header.is_object()) return fail("header is not a JSON object");

  auto st = std::shared_ptr<SafetensorsFile>(new SafetensorsFile());
  st->label_ = label;
  st->data_ = data + 8 + header_len;
  st->owner_ = std::move(owner);
  const size_t data_size = size - 8 - header_len;

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) return fail("__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) return fail("__metadata__." + m.key() + " is not a string");
        st->metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    auto tfail = [&](const std::string& what) { return fail("tensor '" + name + "': " + what); };
    if (!v.is_object()) return tfail("entry is not an object");
    auto dt = v.find("dtype");
    auto sh = v.find("shape");
    auto off = v.find("data_offsets");
    if (dt == v.end() || !dt->is_string()) return tfail("missing or non-string dtype");
    if (sh == v.end() || !sh->is_array()) return tfail("missing or non-array shape");
    if (off == v.end() || !off->is_array() || off->size() != 2) return tfail("data_offsets must be [begin, end]");
    auto dtype = DTypeFromSafetensors(dt->get<std::string>());
    if (!dtype) return Unsupported(label + ": tensor '" + name + "': unknown dtype '" + dt->get<std::string>() + "'");
    SafetensorsEntry e{*dtype, {}, 0, 0};
    for (const json& d : *sh) {
      if (!d.is_number_unsigned()) return tfail("shape has a non-integer or negative dimension");
      e.shape.push_back(static_cast<int64_t>(std::min<uint64_t>(d.get<uint64_t>(), INT64_MAX)));
    }
    if (!(*off)[0].is_number_unsigned() || !(*off)[1].is_number_unsigned()) return tfail("data_offsets are not unsigned integers");
    uint64_t begin = (*off)[0].get<uint64_t>(), end = (*off)[1].get<uint64_t>();
    if (begin > end) return tfail("data_offsets begin > end");
    if (end > data_size) {
      return tfail("data_offsets end " + std::to_string(end) + " is past the data section (" + std::to_string(data_size) + " bytes)");
    }
    auto n = NumElements(e.shape);
    auto bytes = n ? BytesFor(*dtype, *n) : std::nullopt;
    if (!bytes) return tfail("shape " + ShapeToString(e.shape) + " overflows");
    if (*bytes != end - begin) {
      return tfail("shape " + ShapeToString(e.shape) + " of " + std::string(Name(*dtype)) + " needs " + std::to_string(*bytes) +
                   " bytes but data_offsets span " + std::to_string(end - begin));
    }
    e.offset = begin;
    e.size = end - begin;
    st->entries_.emplace(name, std::move(e));
  }

  // No two tensors may share bytes.
  std::vector<std::pair<size_t, const std::string*>> spans;
  for (const auto& [name, e] : st->entries_) {
    if (e.size) spans.emplace_back(e.offset, &name);
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i) {
    const auto& prev = st->entries_.at(*spans[i - 1].second);
    if (spans[i].first < prev.offset + prev.size) {
      return fail("tensors '" + *spans[i - 1].second + "' and '" + *spans[i].second + "' overlap");
    }
  }
  return st;
}

Result<Tensor> SafetensorsFile::Get(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return NotFound(label_ + ": no tensor named '" + name + "'");
  const SafetensorsEntry& e = it->second;
  const uint8_t* p = data_ + e.offset;
  size_t align = std::min<size_t>(Info(e.dtype).block_bytes, 8);
  if (reinterpret_cast<uintptr_t>(p) % align == 0) {
    return Tensor::Wrap(e.dtype, e.shape, const_cast<uint8_t*>(p), owner_);
  }
  ACCEL_ASSIGN_OR_RETURN(Tensor copy, Tensor::Zeros(e.dtype, e.shape));
  std::memcpy(copy.raw(), p, e.size);
  return copy;
}

Status WriteSafetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors) {
  json header = json::object();
  size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    auto dt = SafetensorsName(t.dtype());
    if (dt.empty()) return Unsupported("safetensors cannot store dtype " + std::string(Name(t.dtype())));
    header[name] = {{"dtype", std::string(dt)}, {"shape", t.shape()}, {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string h = header.dump();
  while ((h.size() + 8) % 8 != 0) h.push_back(' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return IoError(path + ": cannot open for writing");
  uint64_t len = h.size();
  char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<char>((len >> (8 * i)) & 0xff);
  out.write(len_bytes, 8);
  out.write(h.data(), static_cast<std::streamsize>(h.size()));
  for (const auto& [name, t] : tensors) out.write(static_cast<const char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
  out.close();
  if (!out) return IoError(path + ": write failed");
  return Status::Ok();
}

}  // namespace accel
