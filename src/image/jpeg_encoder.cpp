#include "synshard/image/jpeg_encoder.hpp"

#include <turbojpeg.h>

#include <string>

#include "synshard/util/error.hpp"

namespace synshard::image {
namespace {

int tj_pixel_format(PixelLayout layout) {
    switch (layout) {
        case PixelLayout::rgb:
            return TJPF_RGB;
        case PixelLayout::gray:
            return TJPF_GRAY;
        case PixelLayout::cmyk:
            return TJPF_CMYK;
    }
    throw Error("unknown pixel layout");
}

int channels(PixelLayout layout) {
    switch (layout) {
        case PixelLayout::rgb:
            return 3;
        case PixelLayout::gray:
            return 1;
        case PixelLayout::cmyk:
            return 4;
    }
    throw Error("unknown pixel layout");
}

int tj_subsampling(ChromaSubsampling subsampling) {
    switch (subsampling) {
        case ChromaSubsampling::s444:
            return TJSAMP_444;
        case ChromaSubsampling::s422:
            return TJSAMP_422;
        case ChromaSubsampling::s420:
            return TJSAMP_420;
        case ChromaSubsampling::gray:
            return TJSAMP_GRAY;
    }
    throw Error("unknown chroma subsampling");
}

}  // namespace

JpegEncoder::JpegEncoder() : handle_(new_turbojpeg_compressor()) {}

std::vector<std::uint8_t> JpegEncoder::encode(std::span<const std::uint8_t> pixels, int width,
                                              int height, PixelLayout layout,
                                              const JpegEncodeSettings& settings) {
    const auto expected = static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                          static_cast<std::size_t>(channels(layout));
    if (width <= 0 || height <= 0 || pixels.size() != expected) {
        throw Error("JPEG encode: pixel buffer does not match " + std::to_string(width) + "x" +
                    std::to_string(height));
    }
    const int subsampling =
        layout == PixelLayout::gray ? TJSAMP_GRAY : tj_subsampling(settings.subsampling);
    int flags = TJFLAG_ACCURATEDCT;
    if (settings.progressive) flags |= TJFLAG_PROGRESSIVE;
    unsigned char* output = nullptr;
    unsigned long size = 0;
    const int status =
        tjCompress2(handle_.get(), pixels.data(), width, 0, height, tj_pixel_format(layout),
                    &output, &size, subsampling, settings.quality, flags);
    std::vector<std::uint8_t> bytes = finish(status, output, size);
    if (settings.progressive) {
        // libjpeg-turbo 2.1.5 keeps the progressive scan script in the handle: a baseline
        // encode after it on the same handle comes out corrupt. A fresh handle forgets it.
        handle_ = new_turbojpeg_compressor();
    }
    return bytes;
}

std::vector<std::uint8_t> JpegEncoder::encode_ycbcr420(
    const std::array<const std::uint8_t*, 3>& planes, const std::array<int, 3>& strides, int width,
    int height, int quality) {
    if (width <= 0 || height <= 0) {
        throw Error("JPEG encode: bad size " + std::to_string(width) + "x" +
                    std::to_string(height));
    }
    std::array<const unsigned char*, 3> sources = planes;  // TurboJPEG takes a non-const array
    unsigned char* output = nullptr;
    unsigned long size = 0;
    const int status =
        tjCompressFromYUVPlanes(handle_.get(), sources.data(), width, strides.data(), height,
                                TJSAMP_420, &output, &size, quality, TJFLAG_ACCURATEDCT);
    return finish(status, output, size);
}

std::vector<std::uint8_t> JpegEncoder::finish(int status, unsigned char* output,
                                              unsigned long size) {
    if (status != 0) {
        const std::string message = tjGetErrorStr2(handle_.get());
        tjFree(output);
        throw Error("JPEG encode: " + message);
    }
    std::vector<std::uint8_t> bytes(output, output + size);
    tjFree(output);
    return bytes;
}

}  // namespace synshard::image
