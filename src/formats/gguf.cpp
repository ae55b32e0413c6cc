#include "formats/gguf.h"

#include <algorithm>
#include <cstring>

#include "core/mapped_file.h"
#include "formats/kquants.h"

namespace accel {

namespace {

enum GgufValueType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7, kString = 8, kArray = 9,
  kU64 = 10, kI64 = 11, kF64 = 12,
};

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr size_t kMaxDims = 4;
// Metadata arrays become JSON values (tens of bytes each): a budget on their elements keeps a
// crafted file's metadata from costing ~48x its size. Real vocabularies hold under 1 M entries.
constexpr uint64_t kMaxMetadataElements = uint64_t{1} << 24;

class Reader {
 public:
  Reader(const uint8_t* d, size_t n, const std::string& label) : d_(d), n_(n), label_(label) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return n_ - pos_; }

  template <typename T>
  Result<T> Read(const char* what) {
    if (remaining() < sizeof(T)) return Corrupt(label_ + ": truncated reading " + what + " at byte " + std::to_string(pos_));
    T v;
    std::memcpy(&v, d_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  Result<std::string> String(const char* what) {
    ACCEL_ASSIGN_OR_RETURN(uint64_t len, Read<uint64_t>(what));
    if (len > remaining()) {
      return Corrupt(label_ + ": " + what + " string of " + std::to_string(len) + " bytes runs past the end of the file");
    }
    std::string s(reinterpret_cast<const char*>(d_ + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return s;
  }

  Result<nlohmann::json> Value(uint32_t type, const std::string& key, int depth) {
    switch (type) {
      case kU8: { ACCEL_ASSIGN_OR_RETURN(uint8_t v, Read<uint8_t>("u8")); return nlohmann::json(v); }
      case kI8: { ACCEL_ASSIGN_OR_RETURN(int8_t v, Read<int8_t>("i8")); return nlohmann::json(v); }
      case kU16: { ACCEL_ASSIGN_OR_RETURN(uint16_t v, Read<uint16_t>("u16")); return nlohmann::json(v); }
      case kI16: { ACCEL_ASSIGN_OR_RETURN(int16_t v, Read<int16_t>("i16")); return nlohmann::json(v); }
      case kU32: { ACCEL_ASSIGN_OR_RETURN(uint32_t v, Read<uint32_t>("u32")); return nlohmann::json(v); }
      case kI32: { ACCEL_ASSIGN_OR_RETURN(int32_t v, Read<int32_t>("i32")); return nlohmann::json(v); }
      case kU64: { ACCEL_ASSIGN_OR_RETURN(uint64_t v, Read<uint64_t>("u64")); return nlohmann::json(v); }
      case kI64: { ACCEL_ASSIGN_OR_RETURN(int64_t v, Read<int64_t>("i64")); return nlohmann::json(v); }
      case kF32: { ACCEL_ASSIGN_OR_RETURN(float v, Read<float>("f32")); return nlohmann::json(v); }
      case kF64: { ACCEL_ASSIGN_OR_RETURN(double v, Read<double>("f64")); return nlohmann::json(v); }
      case kBool: {
        ACCEL_ASSIGN_OR_RETURN(uint8_t v, Read<uint8_t>("bool"));
        if (v > 1) return Corrupt(label_ + ": metadata '" + key + "' has bool value " + std::to_string(v));
        return nlohmann::json(v != 0);
      }
      case kString: { ACCEL_ASSIGN_OR_RETURN(std::string s, String("metadata value")); return nlohmann::json(std::move(s)); }
      case kArray: {
        if (depth > 2) return Corrupt(label_ + ": metadata '" + key + "' nests arrays too deeply");
        ACCEL_ASSIGN_OR_RETURN(uint32_t elem, Read<uint32_t>("array type"));
        ACCEL_ASSIGN_OR_RETURN(uint64_t count, Read<uint64_t>("array length"));
        // Every element takes at least one byte: a count beyond the rest of the file is a lie.
        if (count > remaining()) {
          return Corrupt(label_ + ": metadata '" + key + "' array of " + std::to_string(count) + " elements runs past the end");
        }
        elements_ += count;
        if (elements_ > kMaxMetadataElements) {
          return Corrupt(label_ + ": metadata arrays hold more than " + std::to_string(kMaxMetadataElements) +
                         " elements (at '" + (key.size() > 120 ? key.substr(0, 120) + "..." : key) + "')");
        }
        nlohmann::json arr = nlohmann::json::array();
        for (uint64_t i = 0; i < count; ++i) {
          ACCEL_ASSIGN_OR_RETURN(nlohmann::json v, Value(elem, key, depth + 1));
          arr.push_back(std::move(v));
        }
        return arr;
      }
      default:
        return Corrupt(label_ + ": metadata '" + key + "' has unknown value type " + std::to_string(type));
    }
  }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t pos_ = 0;
  uint64_t elements_ = 0;  // metadata array elements read so far
  const std::string& label_;
};

}  // namespace

std::optional<DType> DTypeFromGgml(uint32_t type) {
  switch (type) {
    case 0: return DType::kF32;
    case 1: return DType::kF16;
    case 2: return DType::kQ4_0;
    case 8: return DType::kQ8_0;
    case 12: return DType::kQ4_K;
    case 13: return DType::kQ5_K;
    case 14: return DType::kQ6_K;
    case 10: return DType::kQ2_K;
    case 11: return DType::kQ3_K;
    case 20: return DType::kIQ4_NL;
    case 23: return DType::kIQ4_XS;
    case 30: return DType::kBF16;
    default: return std::nullopt;
  }
}

std::optional<uint32_t> GgmlTypeOf(DType t) {
  switch (t) {
    case DType::kF32: return 0;
    case DType::kF16: return 1;
    case DType::kQ4_0: return 2;
    case DType::kQ8_0: return 8;
    case DType::kQ4_K: return 12;
    case DType::kQ5_K: return 13;
    case DType::kQ6_K: return 14;
    case DType::kQ2_K: return 10;
    case DType::kQ3_K: return 11;
    case DType::kIQ4_NL: return 20;
    case DType::kIQ4_XS: return 23;
    case DType::kBF16: return 30;
    default: return std::nullopt;
  }
}

Result<std::shared_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  ACCEL_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> owner, MappedFile::Open(path));
  return Parse(owner->data(), owner->size(), path, owner);
}

Result<std::shared_ptr<GgufFile>> GgufFile::Parse(const uint8_t* data, size_t size, const std::string& label,
                                                  std::shared_ptr<const void> owner) {
  auto f = std::shared_ptr<GgufFile>(new GgufFile());
  f->label_ = label;
  f->owner_ = std::move(owner);
  Reader r(data, size, f->label_);
  ACCEL_ASSIGN_OR_RETURN(uint32_t magic, r.Read<uint32_t>("magic"));
  if (magic != kMagic) return Corrupt(label + ": not a GGUF file (bad magic)");
  ACCEL_ASSIGN_OR_RETURN(f->version_, r.Read<uint32_t>("version"));
  if (f->version_ != 2 && f->version_ != 3) return Unsupported(label + ": GGUF version " + std::to_string(f->version_) + " (supported: 2, 3)");
  ACCEL_ASSIGN_OR_RETURN(uint64_t n_tensors, r.Read<uint64_t>("tensor count"));
  ACCEL_ASSIGN_OR_RETURN(uint64_t n_kv, r.Read<uint64_t>("metadata count"));
  // A key/value takes >= 13 bytes and a tensor info >= 24: larger counts cannot fit the file.
  if (n_kv > r.remaining() / 13) return Corrupt(label + ": metadata count " + std::to_string(n_kv) + " exceeds the file");
  if (n_tensors > r.remaining() / 24) return Corrupt(label + ": tensor count " + std::to_string(n_tensors) + " exceeds the file");
  for (uint64_t i = 0; i < n_kv; ++i) {
    ACCEL_ASSIGN_OR_RETURN(std::string key, r.String("metadata key"));
    ACCEL_ASSIGN_OR_RETURN(uint32_t type, r.Read<uint32_t>("metadata type"));
    ACCEL_ASSIGN_OR_RETURN(nlohmann::json v, r.Value(type, key, 0));
    if (f->metadata_.contains(key)) return Corrupt(label + ": metadata key '" + key + "' appears twice");
    f->metadata_[key] = std::move(v);
    f->metadata_types_[key] = type;
  }
  uint64_t alignment = 32;
  if (f->metadata_.contains("general.alignment")) {
    const auto& a = f->metadata_["general.alignment"];
    if (!a.is_number_unsigned() || a.get<uint64_t>() == 0 || (a.get<uint64_t>() & (a.get<uint64_t>() - 1)) != 0 ||
        a.get<uint64_t>() > (1u << 20)) {
      return Corrupt(label + ": general.alignment must be a power of two");
    }
    alignment = a.get<uint64_t>();
  }
  std::vector<std::pair<std::string, GgufTensorInfo>> infos;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    ACCEL_ASSIGN_OR_RETURN(std::string name, r.String("tensor name"));
    ACCEL_ASSIGN_OR_RETURN(uint32_t n_dims, r.Read<uint32_t>("tensor rank"));
    if (n_dims == 0 || n_dims > kMaxDims) return Corrupt(label + ": tensor '" + name + "' has " + std::to_string(n_dims) + " dimensions");
    Shape shape(n_dims);
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      ACCEL_ASSIGN_OR_RETURN(uint64_t dim, r.Read<uint64_t>("tensor dimension"));
      if (dim == 0 || dim > (1ull << 40) || numel > (1ull << 50) / dim) {
        return Corrupt(label + ": tensor '" + name + "' has dimension " + std::to_string(dim));
      }
      numel *= dim;
      shape[n_dims - 1 - d] = static_cast<int64_t>(dim);  // GGUF lists the innermost dimension first
    }
    ACCEL_ASSIGN_OR_RETURN(uint32_t type, r.Read<uint32_t>("tensor type"));
    auto dtype = DTypeFromGgml(type);
    if (!dtype) {
      const auto type_name = quant::GgmlTypeName(type);
      return Unsupported(label + ": tensor '" + name + "' has " +
                         (type_name ? "type " + *type_name : "unknown ggml type " + std::to_string(type)) +
                         " (supported: F32, F16, BF16, Q8_0, Q4_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS)");
    }
    ACCEL_ASSIGN_OR_RETURN(uint64_t offset, r.Read<uint64_t>("tensor offset"));
    if (shape.back() % static_cast<int64_t>(Info(*dtype).block_elems) != 0) {
      return Corrupt(label + ": tensor '" + name + "' rows of " + std::to_string(shape.back()) + " are not whole " + std::string(Name(*dtype)) + " blocks");
    }
    auto bytes = BytesFor(*dtype, static_cast<size_t>(numel));
    if (!bytes) return Corrupt(label + ": tensor '" + name + "' size overflows");
    if (offset % alignment != 0) return Corrupt(label + ": tensor '" + name + "' offset " + std::to_string(offset) + " is not aligned");
    infos.emplace_back(name, GgufTensorInfo{*dtype, shape, static_cast<size_t>(offset), *bytes});
  }
  const size_t data_start = (r.pos() + alignment - 1) / alignment * alignment;
  if (data_start > size && n_tensors > 0) return Corrupt(label + ": data section starts past the end of the file");
  const size_t data_size = data_start <= size ? size - data_start : 0;
  for (auto& [name, info] : infos) {
    if (info.offset > data_size || info.size > data_size - info.offset) {
      return Corrupt(label + ": tensor '" + name + "' data [" + std::to_string(info.offset) + ", +" + std::to_string(info.size) +
                     ") runs past the end of the file");
    }
    if (!f->tensors_.emplace(name, info).second) return Corrupt(label + ": tensor '" + name + "' appears twice");
  }
  // Two tensors sharing bytes is a crafted file (safetensors refuses it too): writing one through
  // a repacked view would change the other.
  std::vector<std::pair<size_t, const std::string*>> by_offset;
  for (const auto& [name, info] : f->tensors_)
    if (info.size > 0) by_offset.emplace_back(info.offset, &name);
  std::sort(by_offset.begin(), by_offset.end());
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const GgufTensorInfo& prev = f->tensors_.at(*by_offset[i - 1].second);
    if (prev.offset + prev.size > by_offset[i].first) {
      auto shown = [](const std::string& n) { return n.size() > 120 ? n.substr(0, 120) + "..." : n; };
      return Corrupt(label + ": tensors '" + shown(*by_offset[i - 1].second) + "' and '" + shown(*by_offset[i].second) +
                     "' overlap in the data section");
    }
  }
  f->data_ = data + std::min(data_start, size);
  return f;
}

Result<Tensor> GgufFile::Get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) return NotFound(label_ + ": no tensor '" + name + "'");
  const GgufTensorInfo& info = it->second;
  Tensor view = Tensor::Wrap(info.dtype, info.shape, const_cast<uint8_t*>(data_ + info.offset), owner_);
  // Offsets are aligned to >= 32 within the data section; a misaligned mapping start is copied.
  if (reinterpret_cast<uintptr_t>(data_ + info.offset) % 4 != 0) return view.Clone();
  return view;
}

}  // namespace accel
