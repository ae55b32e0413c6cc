#pragma once
// Device copies of host constants, for device backends. Host tensors handed to ops are weights
// (graph/exec.h): each is copied to the device on first use and then reused, keyed by its host
// address, with its owner held so the address cannot be reused for other data while the copy
// lives. Tensors without an owner, and small ones (which a caller could refill in place), are
// checked and refreshed when their bytes change, so a reused host buffer never reads stale.
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "graph/backend.h"

namespace accel {

class ConstantMirrors {
 public:
  // The device copy of the contiguous host tensor `t`, allocated and uploaded by `device`.
  Result<Tensor> Get(Backend& device, const Tensor& t);
  void Clear();

 private:
  struct Entry {
    Tensor device;
    std::shared_ptr<const void> owner;  // keeps the host bytes (and so the key) alive
    std::vector<char> copy;             // the bytes last uploaded, when they are checked
    DType dtype = DType::kF32;
  };
  std::mutex mu_;
  std::unordered_map<const void*, Entry> entries_;
};

}  // namespace accel
