// A C++ program using the installed accel engine library directly.
#include <cstdio>

#include "runtime/loaded_model.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer_cpp MODEL_DIR\n");
    return 2;
  }
  auto model = accel::LoadedModel::Load(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "load: %s\n", model.status().message().c_str());
    return 1;
  }
  accel::Tensor ids = accel::Tensor::Zeros(accel::DType::kI64, {1, 4}).value();
  const int64_t values[4] = {1, 5, 7, 2};
  for (int i = 0; i < 4; ++i) ids.data<int64_t>()[i] = values[i];
  auto out = (*model)->Run({{"input_ids", ids}});
  if (!out.ok()) {
    std::fprintf(stderr, "run: %s\n", out.status().message().c_str());
    return 1;
  }
  const accel::Tensor& h = out->at("last_hidden_state");
  std::printf("c++ consumer: last_hidden_state [%lld, %lld, %lld] first %.6f\n", static_cast<long long>(h.dim(0)),
              static_cast<long long>(h.dim(1)), static_cast<long long>(h.dim(2)), h.data<float>()[0]);
  return 0;
}
