#pragma once

#include <cstdint>
#include <opencv2/core.hpp>

#include "synshard/synth/plan.hpp"

namespace synshard::synth {

// Renders a photo-like RGB image (CV_8UC3, R first) of photo.size: a smooth colour
// gradient, low- and mid-frequency texture, background clutter, the class's object
// (a textured shape in a class-specific colour) inside each box, and sensor-like noise.
// Pixels depend only on seed and photo (not on what else was rendered), and JPEG-encode
// at quality 90 to roughly the size of ImageNet photos of the same dimensions.
cv::Mat render_photo(const PhotoSpec& photo, std::uint64_t seed);

}  // namespace synshard::synth
