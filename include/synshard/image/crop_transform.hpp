#pragma once

// The training and evaluation transforms of image classification (torchvision's
// RandomResizedCrop + RandomHorizontalFlip, and Resize + CenterCrop), fused with the decode:
// a JPEG is decoded only over the rows and columns its crop needs, at a reduced DCT scale
// when the crop is large enough, and the crop is resampled straight to the output with
// the project's Resampler. The loader (include/synshard/reader) calls this per sample.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <variant>

#include "synshard/image/decode.hpp"
#include "synshard/image/resample.hpp"
#include "synshard/util/rng.hpp"

namespace synshard::image {

// A rectangle of source pixels in stored orientation (EXIF orientation is not applied:
// the converter stores images upright). Integers because torchvision's crops are.
struct CropBox {
    int x = 0;
    int y = 0;
    int width = 0;
    int height = 0;

    friend bool operator==(const CropBox&, const CropBox&) = default;
};

// torchvision's RandomResizedCrop.get_params with its defaults, scale (0.08, 1) and ratio
// (3/4, 4/3): up to 10 tries of an area fraction uniform in the scale range and an aspect
// ratio log-uniform in the ratio range, rounded half to even as Python's round(); the
// first that fits is placed uniformly. When none fits, the fallback: the whole image,
// or its centre cut to the nearest ratio bound when its own aspect lies outside the range.
// Draws from `rng` only (and computes exp without libm), so a seed gives the same boxes
// on every platform. width and height are the image's, both >= 1.
CropBox random_resized_crop_box(int width, int height, Rng& rng);

// torchvision's Resize(resize) (the shorter side to `resize`, the longer one to
// int(resize * longer / shorter)) then CenterCrop(crop) (offsets round((size - crop) / 2),
// half to even), mapped back to source pixels: each edge rounded to the nearest source
// pixel, so the box is within half a source pixel of torchvision's. Throws Error unless
// 1 <= crop <= resize.
CropBox center_crop_box(int width, int height, int resize, int crop);

// `box` of `rgb` (CV_8UC3) resampled to out_width x out_height with `resampler` (samples
// beyond the box repeat its edge, as resizing a cropped image does), mirrored left-right
// when `flip`, written as RGB uint8 HWC rows to `out` (out_height * out_width * 3 bytes).
// Throws Error when the box is empty or not inside the image. Also what raw (undecoded)
// samples go through.
void crop_resize(const cv::Mat& rgb, CropBox box, int out_width, int out_height, bool flip,
                 Resampler& resampler, std::uint8_t* out);

// The test oracle of CropTransformer::decode_crop_resize: a full-size decode with
// `decoder`, then crop_resize(). Same contract and failures as decode_crop_resize;
// `scratch` holds the decoded image.
std::optional<ImageFailure> reference_decode_crop_resize(std::span<const std::uint8_t> encoded,
                                                         CropBox box, int out_width, int out_height,
                                                         bool flip, std::uint8_t* out,
                                                         Decoder& decoder, Resampler& resampler,
                                                         cv::Mat& scratch);

// The DCT scale M/8 CropTransformer decodes a JPEG's `box` at for an output of
// out_width x out_height: the smallest of 1, 2, 4 and 8 that leaves the box at least as
// large as the output in both axes (so a reduced scale only when the box is at least
// twice the output). Power-of-two scales only, for the reasons jpeg_scale_eighths gives.
// Only grayscale, 4:4:4 and 4:2:0 JPEGs are scaled: others (4:2:2, 4:1:1, ...) lost
// colour edges at reduced scales and always decode at 8/8.
int crop_scale_eighths(CropBox box, int out_width, int out_height);

// How far CropTransformer's output may be from reference_decode_crop_resize()'s, per
// sample and on average over an image, at DCT scale eighths/8 (measured on photo-like
// JPEGs of every common kind in tests/image/crop_transform_test.cpp, worst 29 and mean
// 2.07 at reduced scales; on the sample output's synthetic photos at 64, Python.transform,
// worst 56 and mean 6.5). At full scale the
// bytes are the same: the crop is decoded with a pixel of margin, so libjpeg's fancy
// upsampling (which treats a cropped row's ends as image edges) never reaches the box.
// At a reduced scale, the scaled IDCT is a different low-pass filter from the
// resampler's, which differs most on sharp, high-contrast edges.
struct CropTolerance {
    int max_abs = 0;
    double mean_abs = 0;
};
CropTolerance crop_tolerance(int eighths);

// Decodes, crops, resizes and flips one encoded image. One per thread: it keeps libjpeg
// and TurboJPEG state, resampler tables and pixel buffers between calls. Never throws
// for bad bytes (ImageFailure values, as Decoder); throws Error for a box outside the
// image or an empty output, and when a library cannot get memory.
class CropTransformer {
  public:
    CropTransformer();
    ~CropTransformer();
    CropTransformer(CropTransformer&&) noexcept;
    CropTransformer& operator=(CropTransformer&&) noexcept;

    // The stored size from the header of `encoded`, without decoding a pixel: what the
    // boxes above are computed from.
    std::variant<Size, ImageFailure> read_size(std::span<const std::uint8_t> encoded);

    // `box` of the image in `encoded` (any format Decoder takes) resampled to
    // out_width x out_height, mirrored when `flip`, as RGB uint8 HWC in `out`
    // (out_height * out_width * 3 bytes). Equal to reference_decode_crop_resize()'s
    // within crop_tolerance(crop_scale_eighths(box, out_width, out_height)).
    std::optional<ImageFailure> decode_crop_resize(std::span<const std::uint8_t> encoded,
                                                   CropBox box, int out_width, int out_height,
                                                   bool flip, std::uint8_t* out);

  private:
    struct Libjpeg;  // libjpeg's state; jpeglib.h stays out of this header

    Decoder decoder_;
    std::unique_ptr<Libjpeg> libjpeg_;
    Resampler resampler_;
    cv::Mat decoded_;  // the decoded region (fused) or image (reference path)
};

}  // namespace synshard::image
