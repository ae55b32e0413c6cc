#pragma once
// LLaVA-NeXT's "anyres" image layout as index arithmetic (HF modeling_llava_next.py /
// image_processing_llava_next.py): which grid resolution an image of a given size gets, how
// many tiles that is, and in which order the tiles' patch features, the unpadding and the
// image_newline rows are packed into the language model's image-token positions.
#include <cstdint>
#include <utility>
#include <vector>

#include "core/status.h"

namespace accel::llava {

struct Resolution {
  int64_t height = 0, width = 0;
};

// HF select_best_resolution: the pinpoint (height, width) that keeps the most of an image of
// `size` (height, width) when it is scaled to fit, ties broken by the least wasted area.
Result<Resolution> SelectBestResolution(Resolution size, const std::vector<Resolution>& pinpoints);

// The tiles of one image: the base (resized whole image) tile plus grid_h x grid_w tiles of the
// best resolution (HF image_size_to_num_patches).
struct AnyresGrid {
  int64_t grid_h = 0, grid_w = 0;
  int64_t tiles() const { return grid_h * grid_w + 1; }
};
Result<AnyresGrid> GridFor(Resolution size, const std::vector<Resolution>& pinpoints, int64_t tile_size);

// Rows of one image's packed features, as indices into its feature table: tile t's patch
// (r, c) is row `first_row + t * tile_rows + r * side + c` (tile 0 = the base tile, `side` x
// `side` patches per tile, `tile_rows` >= side*side rows per tile, e.g. with the class token
// first, first_row = 1), and `newline_row` stands for image_newline. Order: the base tile's
// patches, then the tiles stitched into a (grid_h*side) x (grid_w*side) grid, unpadded to the
// original aspect ratio (HF unpad_image), row-major with image_newline after every row. With
// one tile only (grid 0x0): the base tile then one image_newline.
std::vector<int64_t> PackedRows(Resolution size, const AnyresGrid& grid, int64_t side, int64_t tile_rows, int64_t first_row,
                                int64_t newline_row);

}  // namespace accel::llava
