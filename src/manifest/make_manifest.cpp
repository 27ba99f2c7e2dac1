#include "synshard/h5/format.hpp"
#include "synshard/manifest/manifest.hpp"
#include "synshard/util/hash.hpp"
#include "synshard/util/versions.hpp"
#include "synshard/version.hpp"

// Apart from manifest.cpp because library_versions() asks MPI for its version: the
// reader library compiles manifest.cpp without MPI (cmake/SynshardReader.cmake).

namespace synshard::manifest {

Manifest make_manifest() {
    Manifest manifest;
    manifest.format_version = h5::kFormatVersion;
    manifest.tool_version = kVersion;
    manifest.environment = library_versions();
    manifest.hash = std::string(kKeyedHashName);
    return manifest;
}

}  // namespace synshard::manifest
