#pragma once

#include <memory>

namespace synshard::image {

// A TurboJPEG handle (tjhandle, a void*) that tjDestroy() frees when it dies.
struct TurboJpegDestroy {
    void operator()(void* handle) const noexcept;
};
using TurboJpegHandle = std::unique_ptr<void, TurboJpegDestroy>;

// A fresh compressor or decompressor. Throws Error with TurboJPEG's message when the
// library cannot make one (out of memory).
TurboJpegHandle new_turbojpeg_compressor();
TurboJpegHandle new_turbojpeg_decompressor();

}  // namespace synshard::image
