#pragma once

// Real image bytes for the image tests and the image benchmark: photo-like pixels
// (gradients, shapes, texture and noise, never flat) and the encoders that wrap them.
// Header-only so the benchmark target can use the same generator.

#include <libexif/exif-data.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "synshard/image/jpeg_encoder.hpp"

namespace synshard::testing {

using ByteVector = std::vector<std::uint8_t>;

// A deterministic CV_8UC3 RGB "photo": a smooth two-axis colour gradient, a few dozen
// filled shapes with soft edges, fine texture and per-pixel noise.
inline cv::Mat photo_like(int width, int height, std::uint64_t seed, double noise_sigma = 7) {
    cv::RNG rng(seed);
    cv::Mat image(height, width, CV_8UC3);
    const double phase = rng.uniform(0.0, 6.28);
    for (int y = 0; y < height; ++y) {
        auto* row = image.ptr<cv::Vec3b>(y);
        for (int x = 0; x < width; ++x) {
            const double u = static_cast<double>(x) / width;
            const double v = static_cast<double>(y) / height;
            row[x] = cv::Vec3b(
                cv::saturate_cast<std::uint8_t>(40 + 170 * u + 20 * std::sin(9 * v + phase)),
                cv::saturate_cast<std::uint8_t>(60 + 120 * v + 30 * std::sin(7 * u)),
                cv::saturate_cast<std::uint8_t>(200 - 140 * u * v));
        }
    }
    const int scale = std::max(1, std::min(width, height));
    for (int i = 0; i < 40; ++i) {
        const cv::Scalar colour(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256));
        const cv::Point centre(rng.uniform(0, width), rng.uniform(0, height));
        const int size = std::max(1, rng.uniform(scale / 40 + 1, scale / 6 + 2));
        if (i % 3 == 0) {
            cv::circle(image, centre, size, colour, cv::FILLED, cv::LINE_AA);
        } else if (i % 3 == 1) {
            cv::rectangle(image, centre, centre + cv::Point(size, size / 2 + 1), colour, cv::FILLED,
                          cv::LINE_AA);
        } else {
            cv::line(image, centre, centre + cv::Point(size, -size), colour, std::max(1, size / 12),
                     cv::LINE_AA);
        }
    }
    // Texture: stripes of varying frequency, like foliage or fabric.
    cv::Mat texture(height, width, CV_8UC3);
    for (int y = 0; y < height; ++y) {
        auto* row = texture.ptr<cv::Vec3b>(y);
        for (int x = 0; x < width; ++x) {
            const auto t = static_cast<std::uint8_t>(
                127 + 60 * std::sin(0.35 * x + 0.21 * y + 3 * std::sin(0.02 * y)));
            row[x] = cv::Vec3b(t, t, t);
        }
    }
    cv::addWeighted(image, 0.8, texture, 0.2, 0, image);
    cv::GaussianBlur(image, image, cv::Size(3, 3), 0.7);
    cv::Mat noise(height, width, CV_16SC3);
    rng.fill(noise, cv::RNG::NORMAL, 0, noise_sigma);
    cv::Mat noisy;
    image.convertTo(noisy, CV_16SC3);
    noisy += noise;
    noisy.convertTo(image, CV_8UC3);
    return image;
}

inline std::span<const std::uint8_t> pixels_of(const cv::Mat& image) {
    return {image.data, image.total() * image.elemSize()};
}

inline ByteVector encode_jpeg(const cv::Mat& rgb, int quality = 90, bool progressive = false) {
    image::JpegEncoder encoder;
    return encoder.encode(pixels_of(rgb), rgb.cols, rgb.rows, image::PixelLayout::rgb,
                          {quality, image::ChromaSubsampling::s420, progressive});
}

inline ByteVector encode_gray_jpeg(const cv::Mat& gray, int quality = 90) {
    image::JpegEncoder encoder;
    return encoder.encode(pixels_of(gray), gray.cols, gray.rows, image::PixelLayout::gray,
                          {quality, image::ChromaSubsampling::gray, false});
}

// An Adobe YCCK JPEG (as Photoshop writes them: inverted CMYK) of an RGB image.
inline ByteVector encode_cmyk_jpeg(const cv::Mat& rgb, int quality = 95) {
    cv::Mat cmyk(rgb.rows, rgb.cols, CV_8UC4);
    for (int y = 0; y < rgb.rows; ++y) {
        for (int x = 0; x < rgb.cols; ++x) {
            const cv::Vec3b p = rgb.at<cv::Vec3b>(y, x);
            const int top = std::max({p[0], p[1], p[2]});
            // Ink-free fractions: K' = max channel; C' = R / K' (inverted values stored).
            cv::Vec4b& out = cmyk.at<cv::Vec4b>(y, x);
            for (int c = 0; c < 3; ++c) {
                out[c] = top == 0 ? 255 : static_cast<std::uint8_t>((p[c] * 255 + top / 2) / top);
            }
            out[3] = static_cast<std::uint8_t>(top);
        }
    }
    image::JpegEncoder encoder;
    return encoder.encode(pixels_of(cmyk), cmyk.cols, cmyk.rows, image::PixelLayout::cmyk,
                          {quality, image::ChromaSubsampling::s444, false});
}

// cv::imencode of an RGB(A) or gray image of any depth; `extension` like ".png".
inline ByteVector encode_with_opencv(const cv::Mat& image, const std::string& extension,
                                     const std::vector<int>& parameters = {}) {
    cv::Mat bgr;  // a fresh buffer: converting into a copy of `image`'s header would
                  // overwrite the caller's pixels
    if (image.channels() == 3) {
        cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR);
    } else if (image.channels() == 4) {
        cv::cvtColor(image, bgr, cv::COLOR_RGBA2BGRA);
    } else {
        bgr = image;
    }
    ByteVector bytes;
    if (!cv::imencode(extension, bgr, bytes, parameters)) {
        throw std::runtime_error("cv::imencode " + extension + " failed");
    }
    return bytes;
}

// An APP1 EXIF segment holding only `orientation`, built with libexif.
inline ByteVector exif_app1(int orientation) {
    ExifData* exif = exif_data_new();
    exif_data_set_byte_order(exif, EXIF_BYTE_ORDER_INTEL);
    ExifEntry* entry = exif_entry_new();
    exif_content_add_entry(exif->ifd[EXIF_IFD_0], entry);
    exif_entry_initialize(entry, EXIF_TAG_ORIENTATION);
    exif_set_short(entry->data, EXIF_BYTE_ORDER_INTEL, static_cast<ExifShort>(orientation));
    exif_entry_unref(entry);
    unsigned char* data = nullptr;
    unsigned int size = 0;
    exif_data_save_data(exif, &data, &size);  // starts with "Exif\0\0"
    exif_data_unref(exif);
    ByteVector segment(4 + size);
    segment[0] = 0xff;
    segment[1] = 0xe1;  // APP1
    segment[2] = static_cast<std::uint8_t>((size + 2) >> 8);
    segment[3] = static_cast<std::uint8_t>((size + 2) & 0xff);
    std::copy(data, data + size, segment.begin() + 4);
    std::free(data);
    return segment;
}

// `jpeg` with an EXIF orientation segment right after SOI.
inline ByteVector with_exif_orientation(const ByteVector& jpeg, int orientation) {
    ByteVector out(jpeg.begin(), jpeg.begin() + 2);
    const ByteVector app1 = exif_app1(orientation);
    out.insert(out.end(), app1.begin(), app1.end());
    out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
    return out;
}

// Offset of the first SOFn marker (FF C0..CF other than C4, C8, CC) in a JPEG.
inline std::size_t sof_offset(const ByteVector& jpeg) {
    std::size_t offset = 2;
    while (offset + 4 <= jpeg.size()) {
        const std::uint8_t marker = jpeg[offset + 1];
        if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 &&
            marker != 0xcc) {
            return offset;
        }
        offset += 2 + ((std::size_t{jpeg[offset + 2]} << 8) | jpeg[offset + 3]);
    }
    throw std::runtime_error("no SOF marker");
}

// Offset of the first byte of entropy-coded data (after the SOS segment).
inline std::size_t scan_data_offset(const ByteVector& jpeg) {
    std::size_t offset = 2;
    while (offset + 4 <= jpeg.size()) {
        const std::uint8_t marker = jpeg[offset + 1];
        const std::size_t length = (std::size_t{jpeg[offset + 2]} << 8) | jpeg[offset + 3];
        if (marker == 0xda) return offset + 2 + length;
        offset += 2 + length;
    }
    throw std::runtime_error("no SOS marker");
}

// `jpeg` with its frame header claiming width x height (the data stays as it was).
inline ByteVector with_jpeg_dimensions(ByteVector jpeg, int width, int height) {
    const std::size_t sof = sof_offset(jpeg);
    jpeg[sof + 5] = static_cast<std::uint8_t>(height >> 8);
    jpeg[sof + 6] = static_cast<std::uint8_t>(height & 0xff);
    jpeg[sof + 7] = static_cast<std::uint8_t>(width >> 8);
    jpeg[sof + 8] = static_cast<std::uint8_t>(width & 0xff);
    return jpeg;
}

}  // namespace synshard::testing
