#include "models/llava/anyres.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace accel::llava {

Result<Resolution> SelectBestResolution(Resolution size, const std::vector<Resolution>& pinpoints) {
  constexpr int64_t kMaxSide = int64_t{1} << 20;  // far past any image; keeps the areas below in range
  if (size.height <= 0 || size.width <= 0 || size.height > kMaxSide || size.width > kMaxSide) {
    return InvalidArgument("image size " + std::to_string(size.height) + "x" + std::to_string(size.width) + " is not a positive size up to " + std::to_string(kMaxSide));
  }
  if (pinpoints.empty()) return InvalidArgument("image_grid_pinpoints is empty");
  Resolution best;
  int64_t max_effective = 0;
  int64_t min_wasted = std::numeric_limits<int64_t>::max();
  const double oh = static_cast<double>(size.height), ow = static_cast<double>(size.width);
  for (const Resolution& p : pinpoints) {
    const double scale = std::min(static_cast<double>(p.width) / ow, static_cast<double>(p.height) / oh);
    const int64_t dw = static_cast<int64_t>(ow * scale), dh = static_cast<int64_t>(oh * scale);
    const int64_t effective = std::min(dw * dh, size.width * size.height);
    const int64_t wasted = p.width * p.height - effective;
    if (effective > max_effective || (effective == max_effective && wasted < min_wasted)) {
      max_effective = effective;
      min_wasted = wasted;
      best = p;
    }
  }
  if (best.height <= 0 || best.width <= 0) return InvalidArgument("image_grid_pinpoints has no usable resolution");
  return best;
}

Result<AnyresGrid> GridFor(Resolution size, const std::vector<Resolution>& pinpoints, int64_t tile_size) {
  ACCEL_ASSIGN_OR_RETURN(Resolution best, SelectBestResolution(size, pinpoints));
  if (tile_size <= 0 || best.height % tile_size || best.width % tile_size) {
    return InvalidArgument("grid pinpoint " + std::to_string(best.height) + "x" + std::to_string(best.width) +
                           " is not a multiple of the vision tower's " + std::to_string(tile_size) + " pixels");
  }
  return AnyresGrid{best.height / tile_size, best.width / tile_size};
}

namespace {
// Python's int(round(x, 7)) for the non-negative sizes unpad_image computes.
int64_t RoundedInt(double x) { return static_cast<int64_t>(std::nearbyint(x * 1e7) / 1e7); }
}  // namespace

std::vector<int64_t> PackedRows(Resolution size, const AnyresGrid& grid, int64_t side, int64_t tile_rows, int64_t first_row,
                                int64_t newline_row) {
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < side * side; ++i) rows.push_back(first_row + i);
  if (grid.grid_h * grid.grid_w == 0) {
    rows.push_back(newline_row);
    return rows;
  }
  const int64_t h = grid.grid_h * side, w = grid.grid_w * side;
  // unpad_image: crop the padding the resize-to-fit left on the longer side, centred.
  int64_t r0 = 0, r1 = h, c0 = 0, c1 = w;
  const double original_aspect = static_cast<double>(size.width) / static_cast<double>(size.height);
  const double current_aspect = static_cast<double>(w) / static_cast<double>(h);
  if (original_aspect > current_aspect) {
    const double scale = static_cast<double>(w) / static_cast<double>(size.width);
    const int64_t new_h = RoundedInt(static_cast<double>(size.height) * scale);
    const int64_t pad = (h - new_h) / 2;
    r0 = pad;
    r1 = h - pad;
  } else {
    const double scale = static_cast<double>(h) / static_cast<double>(size.height);
    const int64_t new_w = RoundedInt(static_cast<double>(size.width) * scale);
    const int64_t pad = (w - new_w) / 2;
    c0 = pad;
    c1 = w - pad;
  }
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t tile = 1 + (r / side) * grid.grid_w + c / side;
      rows.push_back(first_row + tile * tile_rows + (r % side) * side + c % side);
    }
    rows.push_back(newline_row);
  }
  return rows;
}

}  // namespace accel::llava
