#include "synshard/bench/naive.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace synshard::bench {

std::vector<std::uint8_t> naive_resize_encode(std::span<const std::uint8_t> bytes,
                                              const image::ResizeSpec& resize, int quality) {
    // imdecode reads but does not modify its input; a Mat header avoids a copy.
    const cv::Mat input(1, static_cast<int>(bytes.size()), CV_8UC1,
                        const_cast<std::uint8_t*>(bytes.data()));
    const cv::Mat decoded = cv::imdecode(input, cv::IMREAD_COLOR);
    if (decoded.empty()) return {};
    const image::Layout layout = image::plan_layout({decoded.cols, decoded.rows}, resize, true);
    cv::Mat resized;
    cv::resize(decoded, resized, cv::Size(layout.scaled.width, layout.scaled.height), 0, 0,
               cv::INTER_AREA);
    std::vector<std::uint8_t> encoded;
    cv::imencode(".jpg", resized, encoded, {cv::IMWRITE_JPEG_QUALITY, quality});
    return encoded;
}

}  // namespace synshard::bench
