#include <gtest/gtest.h>

#include <filesystem>

#include "support/test_support.hpp"
#include "synshard/image/pipeline.hpp"
#include "synshard/util/fs.hpp"

namespace synshard::image {
namespace {

// The inputs libFuzzer found interesting (tests/data/fuzz/image, from
// synshard_image_fuzz): each must come back as an image or a reason, never an exception.
TEST(ImageFuzzCorpus, EveryInputIsAnImageOrAReason) {
    const auto corpus = testing::test_data_dir() / "fuzz" / "image";
    PipelineOptions everything;
    everything.formats = {SourceFormat::jpeg, SourceFormat::png, SourceFormat::webp,
                          SourceFormat::bmp};
    everything.min_side = 1;
    everything.resize = parse_resize("crop:64");
    PipelineOptions defaults;
    defaults.encoding = Encoding::original;
    Pipeline fuzzed(everything);
    Pipeline plain(defaults);
    int files = 0;
    int accepted = 0;
    for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
        const auto bytes = read_file(entry.path());
        ++files;
        for (Pipeline* pipeline : {&fuzzed, &plain}) {
            std::variant<ProcessedImage, ImageFailure> result;
            ASSERT_NO_THROW(result = pipeline->process(bytes, {})) << entry.path();
            if (const auto* image = std::get_if<ProcessedImage>(&result)) {
                ++accepted;
                EXPECT_NO_THROW(pipeline->decode_stored(image->data, pipeline->options().encoding,
                                                        image->height, image->width))
                    << entry.path();
            }
        }
    }
    EXPECT_GE(files, 10);
    EXPECT_GE(accepted, 5);  // the seeds are valid images
}

}  // namespace
}  // namespace synshard::image
