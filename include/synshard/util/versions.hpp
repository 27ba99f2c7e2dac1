#pragma once

#include <string>
#include <utility>
#include <vector>

namespace synshard {

// (name, version) of synshard and of every library whose behaviour shapes the output
// bytes: OpenCV, libjpeg-turbo, HDF5, MPI, libarchive, zlib/libpng. Recorded in
// manifests and printed by --version. Safe to call before MPI is initialised.
std::vector<std::pair<std::string, std::string>> library_versions();

}  // namespace synshard
