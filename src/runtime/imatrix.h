#pragma once
// Importance-matrix collection: a LinearObserver that sums each Linear input column's squared
// activations over every token it sees, and the calibration run that installs it
// (runtime/chunked_eval). The result is formats/imatrix_file's Imatrix.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "formats/imatrix_file.h"
#include "runtime/chunked_eval.h"

namespace accel {

class ImatrixCollector : public LinearObserver {
 public:
  // Adds sum_rows x[r, j]^2 to every source weight of the layer (a fused projection's parts see
  // the same input, so each gets the same sums). Layers without sources are skipped.
  Status OnLinear(const LinearLayer& layer, const Tensor& x) override;
  // Means over the rows seen, one entry per weight name.
  Imatrix Means(int64_t chunk_count, int64_t chunk_size, const std::string& dataset) const;

 private:
  struct Sums {
    std::vector<double> sum_x2;
    int64_t rows = 0;
  };
  std::map<std::string, Sums> sums_;
};

// Runs the model over `tokens` in chunks (o.ctx each) and returns the mean squared activations
// of every Linear weight's input columns. `progress` (may be empty) gets chunks done and total.
Result<Imatrix> CollectImatrix(LoadedModel& model, const std::vector<int64_t>& tokens, const ChunkOptions& o,
                               const std::string& dataset, const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace accel
