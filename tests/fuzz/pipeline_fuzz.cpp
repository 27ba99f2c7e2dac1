// libFuzzer entry: arbitrary bytes (and a box derived from them) through the per-image
// pipeline. Any crash, sanitizer report or exception is a bug: bad bytes must come back
// as an ImageFailure.

#include <cstdint>
#include <cstring>
#include <span>

#include "synshard/image/pipeline.hpp"

namespace {

synshard::image::Pipeline& pipeline() {
    static synshard::image::Pipeline instance([] {
        synshard::image::PipelineOptions options;
        options.formats = {synshard::image::SourceFormat::jpeg, synshard::image::SourceFormat::png,
                           synshard::image::SourceFormat::webp, synshard::image::SourceFormat::bmp};
        // Small caps keep each run fast while still reaching every decoder path.
        options.max_pixels = 4'000'000;
        options.min_side = 1;
        options.resize = synshard::image::parse_resize("crop:64");
        return options;
    }());
    return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const synshard::image::Box boxes[] = {{1.5f, 2.0f, 40.0f, 30.0f}, {-5, -5, 1e6f, 1e6f}};
    const auto result = pipeline().process(std::span(data, size), boxes);
    if (const auto* image = std::get_if<synshard::image::ProcessedImage>(&result)) {
        const cv::Mat stored = pipeline().decode_stored(image->data, pipeline().options().encoding,
                                                        image->height, image->width);
        synshard::image::pixel_stats(stored, image->content_rect);
    }
    return 0;
}
