#include "formats/imatrix_file.h"

#include <cmath>
#include <cstring>

#include "formats/gguf_writer.h"

namespace accel {

Status WriteImatrix(const std::string& path, const Imatrix& m) {
  if (m.chunk_count <= 0 || m.values.empty()) return InvalidArgument("an importance matrix needs at least one chunk and one weight");
  GgufWriter w;
  w.SetString("general.type", "imatrix");
  w.SetU32("imatrix.chunk_count", static_cast<uint32_t>(m.chunk_count));
  w.SetU32("imatrix.chunk_size", static_cast<uint32_t>(m.chunk_size));
  w.SetString("imatrix.dataset", m.dataset);
  std::vector<Tensor> keep;  // the writer reads tensor bytes in Write()
  keep.reserve(m.values.size());
  for (const auto& [name, v] : m.values) {
    ACCEL_ASSIGN_OR_RETURN(Tensor t, Tensor::Zeros(DType::kF32, {static_cast<int64_t>(v.size())}));
    std::memcpy(t.data<float>(), v.data(), sizeof(float) * v.size());
    keep.push_back(t);
    ACCEL_RETURN_IF_ERROR(w.AddTensor(name, keep.back()));
  }
  return w.Write(path);
}

Result<Imatrix> ReadImatrix(const std::string& path) {
  ACCEL_ASSIGN_OR_RETURN(std::shared_ptr<GgufFile> f, GgufFile::Open(path));
  return ImatrixFromGguf(*f);
}

Result<Imatrix> ImatrixFromGguf(const GgufFile& file) {
  const GgufFile* f = &file;
  const nlohmann::json& md = f->metadata();
  auto type = md.find("general.type");
  if (type == md.end() || !type->is_string() || type->get<std::string>() != "imatrix") {
    return Corrupt(f->label() + ": not an importance matrix (general.type is not \"imatrix\")");
  }
  Imatrix m;
  auto count = md.find("imatrix.chunk_count");
  if (count == md.end() || !count->is_number_integer() || count->get<int64_t>() <= 0) {
    return Corrupt(f->label() + ": imatrix.chunk_count is missing or not a positive integer");
  }
  m.chunk_count = count->get<int64_t>();
  auto size = md.find("imatrix.chunk_size");
  if (size != md.end() && size->is_number_integer()) m.chunk_size = size->get<int64_t>();
  auto dataset = md.find("imatrix.dataset");
  if (dataset != md.end() && dataset->is_string()) m.dataset = dataset->get<std::string>();
  if (f->tensors().empty()) return Corrupt(f->label() + ": an importance matrix without tensors");
  for (const auto& [name, info] : f->tensors()) {
    if (info.dtype != DType::kF32 || info.shape.size() != 1) {
      return Corrupt(f->label() + ": tensor '" + name + "' must be 1-D f32, is " + std::string(Name(info.dtype)) + " " +
                     ShapeToString(info.shape));
    }
    ACCEL_ASSIGN_OR_RETURN(Tensor t, f->Get(name));
    const float* p = t.data<float>();
    std::vector<float> v(p, p + t.numel());
    for (float x : v) {
      if (!std::isfinite(x) || x < 0) return Corrupt(f->label() + ": tensor '" + name + "' holds a negative or non-finite value");
    }
    m.values.emplace(name, std::move(v));
  }
  return m;
}

}  // namespace accel
