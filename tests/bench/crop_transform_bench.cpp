// Images per second (one thread) of the training transform fused with the JPEG decode
// (CropTransformer) against its reference (full decode, crop, resample), both to
// RandomResizedCrop(224) + flip boxes, on photo-like JPEGs as the converter stores
// ImageNet (shorter side 256, q90, 4:2:0), and on large ones where DCT scaling applies.

#include <benchmark/benchmark.h>

#include <vector>

#include "image/image_samples.hpp"
#include "synshard/image/crop_transform.hpp"

namespace {

using synshard::testing::ByteVector;
namespace image = synshard::image;

constexpr int kOutput = 224;

std::vector<ByteVector> jpegs(int width, int height) {
    std::vector<ByteVector> files;
    for (int i = 0; i < 8; ++i) {
        // Noise sigma 23, as the pipeline benchmark's ImageNet-like files.
        files.push_back(synshard::testing::encode_jpeg(
            synshard::testing::photo_like(width, height, 2000 + i, 23), 90));
    }
    return files;
}

// The same sequence of boxes and flips for both paths.
template <typename Transform>
void run(benchmark::State& state, const std::vector<ByteVector>& files, int width, int height,
         Transform&& transform) {
    std::vector<std::uint8_t> out(kOutput * kOutput * 3);
    synshard::Rng rng(1);
    std::size_t i = 0;
    for (auto _ : state) {
        const ByteVector& file = files[i++ % files.size()];
        const image::CropBox box = image::random_resized_crop_box(width, height, rng);
        const bool flip = rng.below(2) == 1;
        if (transform(file, box, flip, out.data())) state.SkipWithError("decode failed");
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations());
}

void fused(benchmark::State& state, int width, int height) {
    const auto files = jpegs(width, height);
    image::CropTransformer transformer;
    run(state, files, width, height,
        [&](const ByteVector& file, image::CropBox box, bool flip, std::uint8_t* out) {
            return transformer.decode_crop_resize(file, box, kOutput, kOutput, flip, out);
        });
}

void reference(benchmark::State& state, int width, int height) {
    const auto files = jpegs(width, height);
    image::Decoder decoder;
    image::Resampler resampler;
    cv::Mat scratch;
    run(state, files, width, height,
        [&](const ByteVector& file, image::CropBox box, bool flip, std::uint8_t* out) {
            return image::reference_decode_crop_resize(file, box, kOutput, kOutput, flip, out,
                                                       decoder, resampler, scratch);
        });
}

BENCHMARK_CAPTURE(fused, stored_341x256, 341, 256);
BENCHMARK_CAPTURE(reference, stored_341x256, 341, 256);
BENCHMARK_CAPTURE(fused, large_1024x768, 1024, 768);
BENCHMARK_CAPTURE(reference, large_1024x768, 1024, 768);

}  // namespace

BENCHMARK_MAIN();
