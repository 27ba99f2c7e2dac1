#pragma once

// libjpeg's own API (libjpeg-turbo's libjpeg.so, beside the TurboJPEG library synshard
// decodes with), for what TurboJPEG cannot do: write JPEGs with any legal sampling
// factors (TurboJPEG only names six subsamplings) and give an independent reference
// decode to compare synshard's pixels with.

#include <jpeglib.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <opencv2/core.hpp>
#include <stdexcept>
#include <string>

#include "image/image_samples.hpp"

namespace synshard::testing {

// Each component's horizontal x vertical sampling factors: {{4, 2}, {1, 1}, {1, 1}} is
// 4:1:0 (one chroma sample per 4x2 luma samples).
using SamplingFactors = std::array<std::array<int, 2>, 3>;

[[noreturn]] inline void libjpeg_throw(j_common_ptr info) {
    std::array<char, JMSG_LENGTH_MAX> message{};
    (*info->err->format_message)(info, message.data());
    throw std::runtime_error(std::string("libjpeg: ") + message.data());
}

// A baseline JPEG of a CV_8UC3 RGB image, stored as YCbCr with `factors`.
inline ByteVector encode_with_sampling(const cv::Mat& rgb, const SamplingFactors& factors,
                                       int quality = 90) {
    jpeg_compress_struct info{};
    jpeg_error_mgr errors{};
    info.err = jpeg_std_error(&errors);
    errors.error_exit = libjpeg_throw;
    unsigned char* buffer = nullptr;
    unsigned long size = 0;
    const std::unique_ptr<jpeg_compress_struct, void (*)(jpeg_compress_struct*)> owned(
        &info, [](jpeg_compress_struct* owned_info) { jpeg_destroy_compress(owned_info); });
    jpeg_create_compress(&info);
    jpeg_mem_dest(&info, &buffer, &size);
    info.image_width = static_cast<JDIMENSION>(rgb.cols);
    info.image_height = static_cast<JDIMENSION>(rgb.rows);
    info.input_components = 3;
    info.in_color_space = JCS_RGB;
    jpeg_set_defaults(&info);
    jpeg_set_quality(&info, quality, TRUE);
    for (std::size_t c = 0; c < 3; ++c) {
        info.comp_info[c].h_samp_factor = factors[c][0];
        info.comp_info[c].v_samp_factor = factors[c][1];
    }
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        JSAMPROW row =
            const_cast<JSAMPROW>(rgb.ptr<std::uint8_t>(static_cast<int>(info.next_scanline)));
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    ByteVector jpeg(buffer, buffer + size);
    std::free(buffer);
    return jpeg;
}

// What libjpeg decodes `jpeg` to at the DCT scale eighths/8 (accurate integer IDCT, as
// synshard asks for): CV_8UC3 RGB, the size djpeg -scale eighths/8 gives.
inline cv::Mat libjpeg_decode(const ByteVector& jpeg, int eighths) {
    jpeg_decompress_struct info{};
    jpeg_error_mgr errors{};
    info.err = jpeg_std_error(&errors);
    errors.error_exit = libjpeg_throw;
    const std::unique_ptr<jpeg_decompress_struct, void (*)(jpeg_decompress_struct*)> owned(
        &info, [](jpeg_decompress_struct* owned_info) { jpeg_destroy_decompress(owned_info); });
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, jpeg.data(), jpeg.size());
    jpeg_read_header(&info, TRUE);
    info.scale_num = static_cast<unsigned>(eighths);
    info.scale_denom = 8;
    info.out_color_space = JCS_RGB;
    info.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&info);
    cv::Mat rgb(static_cast<int>(info.output_height), static_cast<int>(info.output_width), CV_8UC3);
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = rgb.ptr<std::uint8_t>(static_cast<int>(info.output_scanline));
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    return rgb;
}

}  // namespace synshard::testing
