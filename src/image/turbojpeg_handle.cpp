#include "synshard/image/turbojpeg_handle.hpp"

#include <turbojpeg.h>

#include <string>

#include "synshard/util/error.hpp"

namespace synshard::image {
namespace {

TurboJpegHandle checked(tjhandle handle) {
    if (handle == nullptr) throw Error(std::string("TurboJPEG: ") + tjGetErrorStr2(nullptr));
    return TurboJpegHandle(handle);
}

}  // namespace

void TurboJpegDestroy::operator()(void* handle) const noexcept {
    tjDestroy(handle);
}

TurboJpegHandle new_turbojpeg_compressor() {
    return checked(tjInitCompress());
}

TurboJpegHandle new_turbojpeg_decompressor() {
    return checked(tjInitDecompress());
}

}  // namespace synshard::image
