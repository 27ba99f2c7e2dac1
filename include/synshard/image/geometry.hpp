#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "synshard/image/box.hpp"

namespace synshard::image {

// How --resize maps a source image to the stored one.
enum class ResizeMode {
    shorter,  // shorter side to N, keep aspect
    crop,     // shorter side to N, then the centre NxN
    fixed,    // squash to WxH
    fit,      // keep aspect inside WxH, pad with the background
    longer,   // cap the longer side at N (never enlarges)
    none,     // keep the source size
};

struct ResizeSpec {
    ResizeMode mode = ResizeMode::shorter;
    int width = 256;  // N for shorter, crop and longer (width == height == N)
    int height = 256;

    friend bool operator==(const ResizeSpec&, const ResizeSpec&) = default;
};

// Parses "shorter:256", "crop:224", "fixed:WxH", "fit:WxH", "longer:N" or "none"; sizes
// are 1..65535. Throws UsageError naming the text otherwise.
ResizeSpec parse_resize(std::string_view text);

// The canonical spelling parse_resize() accepts back.
std::string to_string(const ResizeSpec& spec);

// True when every image comes out spec.width x spec.height whatever its size (what a
// raw, fixed-shape dataset needs).
bool has_fixed_output(const ResizeSpec& spec, bool upscale);

struct Size {
    int width = 0;
    int height = 0;

    friend bool operator==(const Size&, const Size&) = default;
};

struct Rect {
    int x = 0;
    int y = 0;
    int width = 0;
    int height = 0;

    friend bool operator==(const Rect&, const Rect&) = default;
};

// Where the pixels of an (oriented) source image go: the whole image is scaled to
// `scaled`, the window `crop` of the scaled image is kept and lands at `content` in an
// output canvas of size `output` (the rest of the canvas is background padding).
struct Layout {
    Size scaled;
    Rect crop;
    Size output;
    Rect content;

    friend bool operator==(const Layout&, const Layout&) = default;
};

// The layout for a source of size `source` (after EXIF orientation). Scaled sizes are
// rounded to the nearest pixel and never below 1. With upscale false no side is enlarged
// (shorter/crop/fixed/fit keep small images as they are; fit still pads).
Layout plan_layout(Size source, const ResizeSpec& spec, bool upscale);

// EXIF orientation 1..8: how the stored pixels must be turned to show the image upright.
// Orientations 5..8 swap width and height.
Size oriented_size(Size stored, int orientation);

// `box` (on the stored image of size `stored`) after clipping to the stored image,
// orientation and the layout, clipped to the output canvas's content; nullopt when
// nothing of it is left (or it was empty or not a number to begin with).
std::optional<Box> transform_box(const Box& box, Size stored, int orientation,
                                 const Layout& layout);

}  // namespace synshard::image
