#include "synshard/util/versions.hpp"

#include <archive.h>
#include <hdf5.h>
#include <jconfig.h>
#include <mpi.h>
#include <png.h>

#include <opencv2/core/version.hpp>

#include "synshard/version.hpp"

namespace synshard {

#define SYNSHARD_STRINGIFY_VALUE(x) #x
#define SYNSHARD_STRINGIFY(x) SYNSHARD_STRINGIFY_VALUE(x)

std::vector<std::pair<std::string, std::string>> library_versions() {
    unsigned major = 0;
    unsigned minor = 0;
    unsigned release = 0;
    H5get_libversion(&major, &minor, &release);

    char mpi_text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
    int mpi_length = 0;
    MPI_Get_library_version(mpi_text, &mpi_length);
    std::string mpi(mpi_text, static_cast<std::size_t>(mpi_length));
    if (const auto comma = mpi.find(','); comma != std::string::npos) mpi.resize(comma);

    return {
        {"synshard", kVersion},
        {"opencv", CV_VERSION},
        {"libjpeg-turbo", SYNSHARD_STRINGIFY(LIBJPEG_TURBO_VERSION)},
        {"hdf5",
         std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release)},
        {"mpi", mpi},
        {"libarchive",
         std::string(archive_version_string()).substr(std::string_view("libarchive ").size())},
        {"libpng", png_get_libpng_ver(nullptr)},
    };
}

}  // namespace synshard
