// `import accel`: the engine from Python (pybind11 over the C++ API).
//
//   m = accel.load("path/to/model", device="cpu")
//   m.embed(["a text", ...])                 -> numpy float32 [n, hidden]
//   m.generate("prompt", max_new_tokens=32)  -> str
//   for piece in m.stream("prompt"): ...     -> str pieces as they are generated
//   m.run({"input_ids": ids, ...})           -> {name: numpy array}
//   accel.hw(), accel.verify(path), accel.select(path)
//
// Compute runs with the GIL released. numpy inputs are read in place when they are C-contiguous
// and of the model's dtype; outputs are numpy arrays over the engine's tensors (no copy).
// Engine errors raise accel.Error with the engine's one-line message.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/version.h"
#include "hw/hw_report.h"
#include "placement/admission.h"
#include "placement/device_selection.h"
#include "placement/memory_budget.h"
#include "registry/model_evidence.h"
#include "runtime/text_model.h"
#include "runtime/verify.h"

namespace py = pybind11;
using namespace accel;

namespace {

PyObject* g_error = nullptr;  // accel.Error

[[noreturn]] void Raise(const Status& s) {
  PyErr_SetString(g_error, s.message().c_str());
  throw py::error_already_set();
}

template <typename T>
T Unwrap(Result<T> r) {
  if (!r.ok()) Raise(r.status());
  return std::move(*r);
}

py::object JsonToPy(const nlohmann::json& j) { return py::module_::import("json").attr("loads")(j.dump()); }

Result<DType> DTypeOf(const py::array& a) {
  const char kind = a.dtype().kind();
  const auto size = a.dtype().itemsize();
  if (kind == 'f' && size == 4) return DType::kF32;
  if (kind == 'i' && size == 8) return DType::kI64;
  if (kind == 'i' && size == 4) return DType::kI32;
  if (kind == 'f' && size == 2) return DType::kF16;
  return InvalidArgument("numpy dtype " + std::string(py::str(a.dtype())) + " is not one accel takes (float32, int64, int32, float16)");
}

// A numpy array viewing `t` (kept alive by the array's base object).
py::array ToNumpy(const Tensor& tensor) {
  Tensor t = tensor.contiguous() ? tensor : tensor.Clone();
  std::string format;
  switch (t.dtype()) {
    case DType::kF32: format = py::format_descriptor<float>::format(); break;
    case DType::kI64: format = py::format_descriptor<int64_t>::format(); break;
    case DType::kI32: format = py::format_descriptor<int32_t>::format(); break;
    default: {
      auto f = t.ToF32();
      if (!f.ok()) Raise(f.status());
      t = *f;
      format = py::format_descriptor<float>::format();
    }
  }
  const size_t item = Info(t.dtype()).block_bytes;
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end()), strides(shape.size());
  py::ssize_t stride = static_cast<py::ssize_t>(item);
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  auto* keep = new Tensor(t);
  py::capsule base(keep, [](void* p) { delete static_cast<Tensor*>(p); });
  return py::array(py::dtype(format), shape, strides, keep->raw(), base);
}

// A generation in a worker thread feeding an iterator: __next__ waits (without the GIL) for the
// next piece; dropping the iterator stops the generation at its next token.
class Stream {
 public:
  Stream(std::shared_ptr<TextModel> model, std::shared_ptr<std::mutex> model_mu, std::vector<int64_t> prompt,
         generation::GenerationOptions options)
      : worker_([this, model, model_mu, prompt = std::move(prompt), options = std::move(options)] {
          std::lock_guard<std::mutex> model_lock(*model_mu);
          auto r = model->Generate(prompt, options, [this](int64_t, const std::string& text) {
            std::lock_guard<std::mutex> lock(mu_);
            pieces_.push_back(text);
            cv_.notify_all();
            return !stop_;
          });
          std::lock_guard<std::mutex> lock(mu_);
          if (!r.ok()) error_ = r.status();
          done_ = true;
          cv_.notify_all();
        }) {}

  ~Stream() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    py::gil_scoped_release release;
    if (worker_.joinable()) worker_.join();
  }

  std::string Next() {
    std::unique_lock<std::mutex> lock(mu_);
    {
      py::gil_scoped_release release;
      cv_.wait(lock, [this] { return !pieces_.empty() || done_; });
    }
    if (!pieces_.empty()) {
      std::string s = std::move(pieces_.front());
      pieces_.pop_front();
      return s;
    }
    if (!error_.ok()) {
      Status e = error_;
      error_ = Status::Ok();
      lock.unlock();
      Raise(e);
    }
    throw py::stop_iteration();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> pieces_;
  bool done_ = false, stop_ = false;
  Status error_ = Status::Ok();
  std::thread worker_;  // last: starts after the state above exists
};

// One loaded model. Calls on it are serialized (the engine runs one request per model at a time).
class PyModel {
 public:
  PyModel(const std::string& path, const std::string& device, bool bf16, const std::string& memory_limit) {
    if (Status fits = AdmitModel({path, memory_limit}); !fits.ok()) Raise(fits);
    LoadOptions o;
    o.device = device;
    if (bf16) o.compute = DType::kBF16;
    Result<std::unique_ptr<TextModel>> r = [&] {
      py::gil_scoped_release release;
      return TextModel::Load(path, o);
    }();
    model_ = std::shared_ptr<TextModel>(Unwrap(std::move(r)).release());
    device_ = device;
  }

  py::dict Info() {
    const HfConfig& c = model_->model().config();
    py::dict d;
    d["model_type"] = c.model_type();
    d["architecture"] = model_->model().model().architecture();
    d["device"] = device_;
    d["generates"] = model_->lm() != nullptr;
    d["has_tokenizer"] = model_->tokenizer() != nullptr;
    d["context_length"] = model_->context_length();
    d["inputs"] = model_->model().model().required_inputs();
    return d;
  }

  std::vector<int64_t> Tokenize(const std::string& text, bool add_special) {
    Tokenizer* tok = RequireTokenizer();
    return Unwrap(tok->Encode(text, add_special)).ids;
  }

  std::string Detokenize(const std::vector<int64_t>& ids, bool skip_special) {
    return Unwrap(RequireTokenizer()->Decode(ids, skip_special));
  }

  py::array Embed(const std::vector<std::string>& texts, bool normalize) {
    if (texts.empty()) Raise(InvalidArgument("embed: no texts"));
    Result<Tensor> r = [&] {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(*mu_);
      return model_->Embed(texts, normalize);
    }();
    return ToNumpy(Unwrap(std::move(r)));
  }

  py::dict Run(const py::dict& inputs) {
    TensorMap in;
    std::vector<py::array> keep;  // the numpy buffers the tensors point into
    for (auto [key, value] : inputs) {
      const std::string name = py::str(key);
      py::array a = py::array::ensure(value, py::array::c_style);
      if (!a) Raise(InvalidArgument("input '" + name + "' is not an array"));
      const DType dtype = Unwrap(DTypeOf(a));
      Shape shape(a.shape(), a.shape() + a.ndim());
      in[name] = Tensor::Wrap(dtype, shape, const_cast<void*>(a.data()), nullptr);
      keep.push_back(std::move(a));
    }
    Result<TensorMap> r = [&] {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(*mu_);
      return model_->model().Run(in);
    }();
    py::dict out;
    for (const auto& [name, t] : Unwrap(std::move(r))) out[py::str(name)] = ToNumpy(t);
    return out;
  }

  // The generated text, or with `return_ids` the new token ids.
  py::object Generate(const py::object& prompt, int64_t max_new_tokens, float temperature, float top_p, int64_t top_k,
                      uint64_t seed, bool chat, const std::vector<std::string>& stop, bool return_ids) {
    auto ids = PromptIds(prompt, chat);
    auto options = Options(max_new_tokens, temperature, top_p, top_k, seed, stop);
    Result<generation::GenerationResult> r = [&] {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(*mu_);
      return model_->Generate(ids, options, nullptr);
    }();
    auto row = Unwrap(std::move(r)).rows[0];
    if (return_ids) return py::cast(row.tokens);
    return py::str(row.text);
  }

  std::unique_ptr<Stream> StreamText(const py::object& prompt, int64_t max_new_tokens, float temperature, float top_p,
                                     int64_t top_k, uint64_t seed, bool chat, const std::vector<std::string>& stop) {
    auto ids = PromptIds(prompt, chat);
    auto options = Options(max_new_tokens, temperature, top_p, top_k, seed, stop);
    return std::make_unique<Stream>(model_, mu_, std::move(ids), std::move(options));
  }

 private:
  Tokenizer* RequireTokenizer() {
    if (!model_->tokenizer()) Raise(Unsupported("this model has no tokenizer"));
    return model_->tokenizer();
  }

  // A str prompt (optionally as one chat message) or a list of token ids.
  std::vector<int64_t> PromptIds(const py::object& prompt, bool chat) {
    if (!model_->lm()) Raise(Unsupported("this model does not generate text (it is not a decoder)"));
    std::vector<int64_t> ids;
    if (py::isinstance<py::str>(prompt)) {
      const std::string text = prompt.cast<std::string>();
      ids = Unwrap(chat ? model_->ChatPromptIds({{"user", text}}) : model_->PromptIds(text));
    } else {
      ids = prompt.cast<std::vector<int64_t>>();
    }
    if (ids.empty()) Raise(InvalidArgument("the prompt has no tokens"));
    return ids;
  }

  generation::GenerationOptions Options(int64_t max_new_tokens, float temperature, float top_p, int64_t top_k,
                                        uint64_t seed, const std::vector<std::string>& stop) {
    if (max_new_tokens < 0) Raise(InvalidArgument("max_new_tokens is negative"));
    generation::GenerationOptions o = model_->DefaultGenerationOptions();
    o.max_new_tokens = max_new_tokens;
    o.sampling.temperature = temperature;
    o.sampling.top_p = top_p;
    o.sampling.top_k = top_k;
    o.sampling.seed = seed;
    if (Status s = generation::ValidateSamplingParams(o.sampling); !s.ok()) Raise(s);
    o.stop_strings = stop;
    return o;
  }

  std::shared_ptr<TextModel> model_;
  std::shared_ptr<std::mutex> mu_ = std::make_shared<std::mutex>();
  std::string device_;
};

py::object Hardware() {
  nlohmann::json j;
  {
    py::gil_scoped_release release;
    j = hw::ToJson(hw::DetectHardware(hw::HwSources::FromEnv()));
  }
  return JsonToPy(j);
}

py::object Verify(const std::string& dir, const std::string& device) {
  LoadOptions o;
  o.device = device;
  Result<VerifyReport> r = [&] {
    py::gil_scoped_release release;
    return VerifyFixture(dir, o);
  }();
  return JsonToPy(ToJson(Unwrap(std::move(r))));
}

py::object Select(const std::string& model, int64_t batch, int64_t seq) {
  if (batch < 1 || seq < 1) Raise(InvalidArgument("batch and seq must be at least 1"));
  auto profile = Unwrap(ModelProfile::FromEvidence(Unwrap(registry::GatherEvidence(model))));
  hw::HwReport hardware = hw::DetectHardware(hw::HwSources::FromEnv());
  SelectionOptions options;
  if (auto limit = ResolveMemoryLimit("", hardware.memory); limit.ok()) options.memory_limit_bytes = *limit;
  auto selection = Unwrap(SelectDevice(profile, {batch, seq}, hardware, nullptr, options));
  nlohmann::json j = ToJson(selection, profile, {batch, seq});
  j["model"] = model;
  return JsonToPy(j);
}

}  // namespace

PYBIND11_MODULE(accel, m) {
  m.doc() = "ipfs-accelerate: run Hugging Face and GGUF models";
  m.attr("__version__") = kVersion;
  static py::exception<std::runtime_error> error(m, "Error");
  g_error = error.ptr();

  py::class_<Stream>(m, "Stream")
      .def("__iter__", [](Stream& s) -> Stream& { return s; })
      .def("__next__", &Stream::Next);

  py::class_<PyModel>(m, "Model")
      .def(py::init<const std::string&, const std::string&, bool, const std::string&>(), py::arg("path"),
           py::arg("device") = "cpu", py::arg("bf16") = false, py::arg("memory_limit") = "")
      .def_property_readonly("info", &PyModel::Info)
      .def("tokenize", &PyModel::Tokenize, py::arg("text"), py::arg("add_special_tokens") = true)
      .def("detokenize", &PyModel::Detokenize, py::arg("ids"), py::arg("skip_special_tokens") = true)
      .def("embed", &PyModel::Embed, py::arg("texts"), py::arg("normalize") = true)
      .def("run", &PyModel::Run, py::arg("inputs"))
      .def("generate", &PyModel::Generate, py::arg("prompt"), py::arg("max_new_tokens") = 128,
           py::arg("temperature") = 0.0f, py::arg("top_p") = 1.0f, py::arg("top_k") = 0, py::arg("seed") = 0,
           py::arg("chat") = false, py::arg("stop") = std::vector<std::string>{}, py::arg("return_ids") = false)
      .def("stream", &PyModel::StreamText, py::arg("prompt"), py::arg("max_new_tokens") = 128,
           py::arg("temperature") = 0.0f, py::arg("top_p") = 1.0f, py::arg("top_k") = 0, py::arg("seed") = 0,
           py::arg("chat") = false, py::arg("stop") = std::vector<std::string>{});

  m.def("load", [](const std::string& path, const std::string& device, bool bf16, const std::string& memory_limit) {
          return std::make_unique<PyModel>(path, device, bf16, memory_limit);
        },
        py::arg("path"), py::arg("device") = "cpu", py::arg("bf16") = false, py::arg("memory_limit") = "",
        "Loads a model folder, an HF id from the local cache, or a .gguf file");
  m.def("hw", &Hardware, "This machine's hardware report (as `accel hw --json`)");
  m.def("verify", &Verify, py::arg("fixture"), py::arg("device") = "cpu",
        "Runs a fixture folder and compares it with its reference (as `accel verify --json`)");
  m.def("select", &Select, py::arg("model"), py::arg("batch") = 1, py::arg("seq") = 128,
        "Ranks this machine's devices for a model (as `accel select --json`)");
}
