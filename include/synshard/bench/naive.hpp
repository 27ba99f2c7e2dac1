#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "synshard/image/geometry.hpp"

namespace synshard::bench {

// The path users write without synshard, the baseline of `synshard bench` and the image
// benchmark: cv::imdecode (full size, BGR), cv::resize with INTER_AREA to the size
// `resize` plans for the decoded image, cv::imencode as JPEG at `quality`. No validation:
// OpenCV decodes what it can. Returns the encoded bytes; empty when OpenCV cannot decode
// the input. Uses whatever cv::setNumThreads() the caller set.
std::vector<std::uint8_t> naive_resize_encode(std::span<const std::uint8_t> bytes,
                                              const image::ResizeSpec& resize, int quality);

}  // namespace synshard::bench
