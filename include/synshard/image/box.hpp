#pragma once

namespace synshard::image {

// A bounding box in continuous pixel coordinates on [0, width] x [0, height] of the
// image it belongs to: (xmin, ymin) is the top-left corner of the first covered pixel,
// (xmax, ymax) the bottom-right corner of the last. An ImageNet box (0-based pixel
// indices, maxima included) xmin ymin xmax ymax becomes xmin, ymin, xmax+1, ymax+1
// (corpus::continuous_box).
struct Box {
    float xmin = 0;
    float ymin = 0;
    float xmax = 0;
    float ymax = 0;

    friend bool operator==(const Box&, const Box&) = default;
};

}  // namespace synshard::image
