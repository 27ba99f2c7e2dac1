#include "synshard/reader/picture.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "synshard/util/atomic_file.hpp"
#include "synshard/util/error.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::reader {
namespace {

constexpr double kFontScale = 0.4;
const cv::Scalar kTextColor{235, 235, 235};

// Draws the caption lines into `band` (a view of the picture, so text is clipped to it).
void draw_caption(cv::Mat band, const std::vector<std::string>& lines) {
    band.setTo(kBackgroundColor);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const int baseline = static_cast<int>(i + 1) * kCaptionLineHeight;
        cv::putText(band, fit_caption(lines[i], band.cols), cv::Point(4, baseline),
                    cv::FONT_HERSHEY_SIMPLEX, kFontScale, kTextColor, 1, cv::LINE_AA);
    }
}

// `image` is the scaled picture of the tile (a view into the canvas).
void draw_boxes(cv::Mat image, const std::vector<image::Box>& boxes, double scale) {
    for (const image::Box& box : boxes) {
        const cv::Rect outline = box_outline(box, scale, cv::Point(0, 0), image.size());
        if (outline.width <= 0 || outline.height <= 0) continue;
        cv::rectangle(image, outline, kBoxColor, 1, cv::LINE_8);
        if (outline.width > 2 && outline.height > 2) {
            const cv::Rect inner(outline.x + 1, outline.y + 1, outline.width - 2,
                                 outline.height - 2);
            cv::rectangle(image, inner, kBoxColor, 1, cv::LINE_8);
        }
    }
}

cv::Mat to_bgr(const cv::Mat& rgb) {
    if (rgb.type() != CV_8UC3) throw Error("picture: expected an 8-bit RGB image");
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    return bgr;
}

}  // namespace

std::string fit_caption(const std::string& line, int width) {
    // The text starts 4 pixels in; keep as much margin on the right.
    const auto fits = [&](const std::string& text) {
        int baseline = 0;
        return cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, kFontScale, 1, &baseline).width <=
               width - 8;
    };
    if (fits(line)) return line;
    std::size_t length = line.size();
    while (length > 0) {
        --length;
        // Not inside a UTF-8 sequence (continuation bytes are 10xxxxxx).
        while (length > 0 && (static_cast<unsigned char>(line[length]) & 0xC0) == 0x80) --length;
        const std::string cut = line.substr(0, length) + "...";
        if (fits(cut)) return cut;
    }
    return "...";
}

int caption_height(std::size_t lines) {
    return lines == 0 ? 0 : static_cast<int>(lines) * kCaptionLineHeight + 6;
}

cv::Rect box_outline(const image::Box& box, double scale, cv::Point origin, cv::Size scaled_size) {
    const auto at = [&](float coordinate) {
        return static_cast<int>(std::lround(static_cast<double>(coordinate) * scale));
    };
    const int left = std::clamp(at(box.xmin), 0, scaled_size.width - 1);
    const int top = std::clamp(at(box.ymin), 0, scaled_size.height - 1);
    const int right = std::clamp(at(box.xmax) - 1, 0, scaled_size.width - 1);
    const int bottom = std::clamp(at(box.ymax) - 1, 0, scaled_size.height - 1);
    if (right < left || bottom < top) return {};
    return {origin.x + left, origin.y + top, right - left + 1, bottom - top + 1};
}

cv::Mat draw_tile(const Tile& tile) {
    const cv::Mat bgr = to_bgr(tile.rgb);
    cv::Mat picture(bgr.rows + caption_height(tile.caption.size()), bgr.cols, CV_8UC3,
                    kBackgroundColor);
    cv::Mat image = picture(cv::Rect(0, 0, bgr.cols, bgr.rows));
    bgr.copyTo(image);
    draw_boxes(image, tile.boxes, 1.0);
    draw_caption(picture(cv::Rect(0, bgr.rows, bgr.cols, picture.rows - bgr.rows)), tile.caption);
    return picture;
}

cv::Mat draw_contact_sheet(const std::vector<Tile>& tiles, int side) {
    if (tiles.empty()) throw Error("contact sheet: no samples");
    if (side < 16) throw Error("contact sheet: tiles under 16 pixels");
    const int columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(tiles.size()))));
    const int rows = (static_cast<int>(tiles.size()) + columns - 1) / columns;
    std::size_t lines = 0;
    for (const Tile& tile : tiles) lines = std::max(lines, tile.caption.size());
    const int cell_height = side + caption_height(lines);
    cv::Mat sheet(rows * cell_height, columns * side, CV_8UC3, kBackgroundColor);
    for (std::size_t i = 0; i < tiles.size(); ++i) {
        const Tile& tile = tiles[i];
        const cv::Point cell(static_cast<int>(i) % columns * side,
                             static_cast<int>(i) / columns * cell_height);
        const double scale = std::min(static_cast<double>(side) / tile.rgb.cols,
                                      static_cast<double>(side) / tile.rgb.rows);
        const cv::Size scaled(
            std::clamp(static_cast<int>(std::lround(tile.rgb.cols * scale)), 1, side),
            std::clamp(static_cast<int>(std::lround(tile.rgb.rows * scale)), 1, side));
        cv::Mat resized;
        cv::resize(to_bgr(tile.rgb), resized, scaled, 0, 0,
                   scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
        cv::Mat image =
            sheet(cv::Rect(cell.x + (side - scaled.width) / 2, cell.y + (side - scaled.height) / 2,
                           scaled.width, scaled.height));
        resized.copyTo(image);
        draw_boxes(image, tile.boxes, scale);
        draw_caption(sheet(cv::Rect(cell.x, cell.y + side, side, cell_height - side)),
                     tile.caption);
    }
    return sheet;
}

void write_png(const std::filesystem::path& path, const cv::Mat& bgr) {
    std::vector<std::uint8_t> png;
    if (bgr.empty() || !cv::imencode(".png", bgr, png)) {
        throw Error(path.string() + ": cannot encode the picture as PNG");
    }
    write_file_atomically(path, png);
}

}  // namespace synshard::reader
