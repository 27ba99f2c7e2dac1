#pragma once

#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "synshard/image/box.hpp"

namespace synshard::reader {

// Pictures of samples, for a person to check a conversion (`synshard show`). Every
// picture is BGR (CV_8UC3, ready for cv::imwrite) with each sample's boxes drawn in
// kBoxColor and its caption lines written below the image in a band of
// caption_height(lines) pixels.

// Magenta, 2 pixels wide: the outer pixel is the box's edge, the inner one is inset by 1.
inline const cv::Scalar kBoxColor{255, 0, 255};  // BGR
inline constexpr int kCaptionLineHeight = 16;
inline const cv::Scalar kBackgroundColor{32, 32, 32};

int caption_height(std::size_t lines);

// A caption line as drawn into a band `width` pixels wide: the whole line when it fits,
// else its longest start that fits with "..." after it (Hershey fonts have no ellipsis
// glyph), cut between UTF-8 characters.
std::string fit_caption(const std::string& line, int width);

// One sample to draw: its pixels, boxes in its pixel coordinates, caption lines.
struct Tile {
    cv::Mat rgb;  // CV_8UC3, RGB
    std::vector<image::Box> boxes;
    std::vector<std::string> caption;
};

// Where box (xmin, ymin, xmax, ymax) is drawn when its image is scaled by `scale` and its
// top-left pixel is at `origin`: the outer edge runs from
// (origin.x + round(xmin * scale), origin.y + round(ymin * scale)) to
// (origin.x + round(xmax * scale) - 1, origin.y + round(ymax * scale) - 1), clipped to the
// scaled image (scaled_size).
cv::Rect box_outline(const image::Box& box, double scale, cv::Point origin, cv::Size scaled_size);

// The sample at its stored size: width rgb.cols, height rgb.rows + caption_height(lines).
cv::Mat draw_tile(const Tile& tile);

// A grid of ceil(sqrt(N)) columns and as many rows as needed; each cell is `side` wide and
// side + caption_height(most caption lines) high, row by row. Each image is scaled by
// min(side / width, side / height) (INTER_AREA down, INTER_LINEAR up) to
// round(width * scale) x round(height * scale) and centred in the cell's side x side
// square: left at (side - scaled width) / 2, top at (side - scaled height) / 2 (integer
// division). Throws Error for no tiles or side < 16.
cv::Mat draw_contact_sheet(const std::vector<Tile>& tiles, int side);

// Writes a BGR picture as PNG, atomically (temporary file, fsync, rename). Throws Error
// naming the path.
void write_png(const std::filesystem::path& path, const cv::Mat& bgr);

}  // namespace synshard::reader
