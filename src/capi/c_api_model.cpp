// The C API's model calls: load, free, info, tokenize, forward pass, embeddings.
#include <cstdlib>
#include <new>

#include <nlohmann/json.hpp>

#include "capi/c_api_inputs.h"
#include "capi/c_api_support.h"
#include "placement/admission.h"

using namespace accel;
using namespace accel::capi;

namespace {

Result<accel_dtype> ToCDType(DType d) {
  switch (d) {
    case DType::kF32: return ACCEL_DTYPE_F32;
    case DType::kI64: return ACCEL_DTYPE_I64;
    case DType::kI32: return ACCEL_DTYPE_I32;
    case DType::kF16: return ACCEL_DTYPE_F16;
    case DType::kBF16: return ACCEL_DTYPE_BF16;
    default: return Unsupported("an output has dtype " + std::string(Name(d)) + ", which the C API does not carry");
  }
}

Result<accel_tensors*> TensorsFrom(const TensorMap& map) {
  auto out = std::make_unique<accel_tensors>();
  for (const auto& [name, t] : map) {
    ACCEL_ASSIGN_OR_RETURN(accel_dtype unused, ToCDType(t.dtype()));
    (void)unused;
    out->names.push_back(name);
    out->tensors.push_back(t.contiguous() && t.owner() ? t : t.Clone());
  }
  return out.release();
}

accel_status View(const accel_tensors* ts, size_t i, accel_tensor_view* view) {
  const Tensor& t = ts->tensors[i];
  view->name = ts->names[i].c_str();
  view->dtype = ToCDType(t.dtype()).value();
  view->rank = t.rank();
  view->shape = t.shape().data();
  view->data = t.raw();
  return Ok();
}

}  // namespace

extern "C" {

void accel_load_options_init(accel_load_options* options) {
  if (!options) return;
  *options = accel_load_options{};
  options->struct_size = sizeof(accel_load_options);
  options->device = "cpu";
}

accel_status accel_model_load(const char* path, const accel_load_options* options, accel_model** model) {
  return Guard("accel_model_load", [&]() -> accel_status {
    if (!path || !model) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_model_load: path and model must not be NULL");
    *model = nullptr;
    LoadOptions lo;
    lo.device = "cpu";
    if (options) {
      if (options->struct_size < sizeof(size_t) + sizeof(const char*))
        return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_model_load: options.struct_size is not set (call accel_load_options_init)");
      if (options->device && *options->device) lo.device = options->device;
      if (options->struct_size >= offsetof(accel_load_options, compute_bf16) + sizeof(int) && options->compute_bf16)
        lo.compute = DType::kBF16;
    }
    AdmissionRequest admission;
    admission.model = path;
    if (options && options->struct_size >= offsetof(accel_load_options, memory_limit) + sizeof(const char*) &&
        options->memory_limit)
      admission.memory_limit = options->memory_limit;
    if (Status fits = AdmitModel(admission); !fits.ok()) return Fail(fits);
    auto text = TextModel::Load(path, lo);
    if (!text.ok()) return Fail(text.status());
    auto m = std::make_unique<accel_model>();
    m->text = std::move(*text);
    m->device = lo.device;
    *model = m.release();
    RegisterModel(*model);
    return Ok();
  });
}

void accel_model_free(accel_model* model) {
  if (model && UnregisterModel(model)) delete model;
}

accel_status accel_model_info(accel_model* model, char** json) {
  return Guard("accel_model_info", [&]() -> accel_status {
    accel_model* m = LiveModel(model, "accel_model_info");
    if (!m) return ACCEL_ERR_INVALID_ARGUMENT;
    if (!json) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_model_info: json must not be NULL");
    std::lock_guard<std::mutex> lock(m->mu);
    LoadedModel& lm = m->text->model();
    const HfConfig& c = lm.config();
    nlohmann::json j = {{"model_type", c.model_type()},
                        {"architecture", lm.model().architecture()},
                        {"device", m->device},
                        {"generates", m->text->lm() != nullptr},
                        {"has_tokenizer", m->text->tokenizer() != nullptr},
                        {"has_chat_template", m->text->chat_template().has_value()},
                        {"context_length", m->text->context_length()},
                        {"vocab_size", c.IntOr("vocab_size", 0)},
                        {"hidden_size", c.IntOr("hidden_size", 0)},
                        {"inputs", lm.model().required_inputs()},
                        {"optional_inputs", lm.model().optional_inputs()}};
    *json = CopyString(j.dump());
    return *json ? Ok() : Fail(ACCEL_ERR_OUT_OF_MEMORY, "accel_model_info: out of memory");
  });
}

accel_status accel_tokenize(accel_model* model, const char* text, int add_special, int64_t** ids, size_t* count) {
  return Guard("accel_tokenize", [&]() -> accel_status {
    accel_model* m = LiveModel(model, "accel_tokenize");
    if (!m) return ACCEL_ERR_INVALID_ARGUMENT;
    if (!text || !ids || !count) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_tokenize: text, ids and count must not be NULL");
    *ids = nullptr;
    *count = 0;
    if (!IsValidUtf8(text)) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_tokenize: the text is not valid UTF-8");
    std::lock_guard<std::mutex> lock(m->mu);
    Tokenizer* tok = m->text->tokenizer();
    if (!tok) return Fail(ACCEL_ERR_UNSUPPORTED, "accel_tokenize: this model has no tokenizer");
    auto enc = tok->Encode(text, add_special != 0);
    if (!enc.ok()) return Fail(enc.status());
    const size_t n = enc->ids.size();
    auto* out = static_cast<int64_t*>(std::malloc(std::max<size_t>(1, n) * sizeof(int64_t)));
    if (!out) return Fail(ACCEL_ERR_OUT_OF_MEMORY, "accel_tokenize: out of memory");
    std::copy(enc->ids.begin(), enc->ids.end(), out);
    *ids = out;
    *count = n;
    return Ok();
  });
}

accel_status accel_detokenize(accel_model* model, const int64_t* ids, size_t count, int skip_special, char** text) {
  return Guard("accel_detokenize", [&]() -> accel_status {
    accel_model* m = LiveModel(model, "accel_detokenize");
    if (!m) return ACCEL_ERR_INVALID_ARGUMENT;
    if ((!ids && count) || !text) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_detokenize: ids and text must not be NULL");
    *text = nullptr;
    std::lock_guard<std::mutex> lock(m->mu);
    Tokenizer* tok = m->text->tokenizer();
    if (!tok) return Fail(ACCEL_ERR_UNSUPPORTED, "accel_detokenize: this model has no tokenizer");
    auto s = tok->Decode(std::vector<int64_t>(ids, ids + count), skip_special != 0);
    if (!s.ok()) return Fail(s.status());
    *text = CopyString(*s);
    return *text ? Ok() : Fail(ACCEL_ERR_OUT_OF_MEMORY, "accel_detokenize: out of memory");
  });
}

size_t accel_tensors_count(const accel_tensors* tensors) { return tensors ? tensors->tensors.size() : 0; }

accel_status accel_tensors_get(const accel_tensors* tensors, size_t index, accel_tensor_view* view) {
  if (!tensors || !view) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_tensors_get: tensors and view must not be NULL");
  if (index >= tensors->tensors.size())
    return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_tensors_get: index " + std::to_string(index) + " of " +
                                                std::to_string(tensors->tensors.size()) + " tensors");
  return View(tensors, index, view);
}

accel_status accel_tensors_find(const accel_tensors* tensors, const char* name, accel_tensor_view* view) {
  if (!tensors || !name || !view) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_tensors_find: arguments must not be NULL");
  for (size_t i = 0; i < tensors->names.size(); ++i)
    if (tensors->names[i] == name) return View(tensors, i, view);
  return Fail(ACCEL_ERR_NOT_FOUND, std::string("accel_tensors_find: no tensor named '") + name + "'");
}

void accel_tensors_free(accel_tensors* tensors) { delete tensors; }

accel_status accel_model_run(accel_model* model, const accel_tensor_view* inputs, size_t count, accel_tensors** outputs) {
  return Guard("accel_model_run", [&]() -> accel_status {
    accel_model* m = LiveModel(model, "accel_model_run");
    if (!m) return ACCEL_ERR_INVALID_ARGUMENT;
    if (!outputs) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_model_run: outputs must not be NULL");
    *outputs = nullptr;
    auto in = InputsFromViews(inputs, count);
    if (!in.ok()) return Fail(in.status());
    std::lock_guard<std::mutex> lock(m->mu);
    auto out = m->text->model().Run(*in);
    if (!out.ok()) return Fail(out.status());
    auto ts = TensorsFrom(*out);
    if (!ts.ok()) return Fail(ts.status());
    *outputs = *ts;
    return Ok();
  });
}

accel_status accel_embed(accel_model* model, const char* const* texts, size_t count, int normalize, accel_tensors** embeddings) {
  return Guard("accel_embed", [&]() -> accel_status {
    accel_model* m = LiveModel(model, "accel_embed");
    if (!m) return ACCEL_ERR_INVALID_ARGUMENT;
    if (!embeddings || (!texts && count)) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_embed: texts and embeddings must not be NULL");
    *embeddings = nullptr;
    if (count == 0) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_embed: no texts");
    std::vector<std::string> batch;
    for (size_t i = 0; i < count; ++i) {
      if (!texts[i]) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_embed: text " + std::to_string(i) + " is NULL");
      if (!IsValidUtf8(texts[i])) return Fail(ACCEL_ERR_INVALID_ARGUMENT, "accel_embed: text " + std::to_string(i) + " is not valid UTF-8");
      batch.emplace_back(texts[i]);
    }
    std::lock_guard<std::mutex> lock(m->mu);
    auto e = m->text->Embed(batch, normalize != 0);
    if (!e.ok()) return Fail(e.status());
    auto ts = TensorsFrom({{"embeddings", *e}});
    if (!ts.ok()) return Fail(ts.status());
    *embeddings = *ts;
    return Ok();
  });
}

}  // extern "C"
