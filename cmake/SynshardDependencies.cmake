# Every external dependency is found here, with a message that says which Debian
# package provides it (cluster/install-deps.sh installs all of them).

function(synshard_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR "synshard needs ${what}: install Debian's ${package} "
                        "(or run cluster/install-deps.sh)")
  endif()
endfunction()

find_package(MPI COMPONENTS C)
synshard_require(MPI_C_FOUND "an MPI implementation" "libopenmpi-dev openmpi-bin")

set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 COMPONENTS C)
synshard_require(HDF5_FOUND "HDF5" "libhdf5-openmpi-dev")
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "synshard needs the parallel (MPI) build of HDF5, but found a serial "
                      "one at ${HDF5_C_INCLUDE_DIRS}: install Debian's libhdf5-openmpi-dev")
endif()

find_package(OpenCV QUIET COMPONENTS core imgproc imgcodecs)
synshard_require(OpenCV_FOUND "OpenCV (core, imgproc, imgcodecs)" "libopencv-dev")

find_package(Boost 1.74 QUIET COMPONENTS program_options)
synshard_require(Boost_FOUND "Boost.Program_options" "libboost-program-options-dev")

find_package(libjpeg-turbo QUIET CONFIG)
synshard_require(libjpeg-turbo_FOUND "libjpeg-turbo's TurboJPEG API" "libturbojpeg0-dev libjpeg62-turbo-dev")

find_package(LibArchive QUIET)
synshard_require(LibArchive_FOUND "libarchive" "libarchive-dev")

find_package(ZLIB QUIET)
synshard_require(ZLIB_FOUND "zlib" "zlib1g-dev")

find_package(OpenSSL QUIET COMPONENTS Crypto)
synshard_require(OpenSSL_FOUND "OpenSSL's libcrypto" "libssl-dev")

find_package(nlohmann_json 3.10 QUIET CONFIG)
synshard_require(nlohmann_json_FOUND "nlohmann-json" "nlohmann-json3-dev")

find_package(pugixml QUIET CONFIG)
synshard_require(pugixml_FOUND "pugixml" "libpugixml-dev")

find_package(PkgConfig QUIET)
synshard_require(PKG_CONFIG_FOUND "pkg-config" "pkg-config")
pkg_check_modules(XXHASH QUIET IMPORTED_TARGET libxxhash)
synshard_require(XXHASH_FOUND "xxHash" "libxxhash-dev")
pkg_check_modules(MATIO QUIET IMPORTED_TARGET matio)
synshard_require(MATIO_FOUND "matio" "libmatio-dev")
pkg_check_modules(LIBEXIF QUIET IMPORTED_TARGET libexif)
synshard_require(LIBEXIF_FOUND "libexif" "libexif-dev")
pkg_check_modules(LIBPNG QUIET IMPORTED_TARGET libpng)
synshard_require(LIBPNG_FOUND "libpng" "libpng-dev")
pkg_check_modules(LIBWEBP QUIET IMPORTED_TARGET libwebp)
synshard_require(LIBWEBP_FOUND "libwebp" "libwebp-dev")

if(SYNSHARD_BUILD_TESTS)
  find_package(GTest QUIET CONFIG)
  synshard_require(GTest_FOUND "GoogleTest" "libgtest-dev libgmock-dev")
endif()
if(SYNSHARD_BUILD_BENCHMARKS)
  find_package(benchmark QUIET CONFIG)
  synshard_require(benchmark_FOUND "Google Benchmark" "libbenchmark-dev")
endif()

# mpiexec flags for running as root and with more ranks than cores (Open MPI only).
execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version OUTPUT_VARIABLE _mpiexec_version
                ERROR_QUIET)
set(SYNSHARD_MPIEXEC_FLAGS "")
if(_mpiexec_version MATCHES "Open MPI|OpenRTE")
  list(APPEND SYNSHARD_MPIEXEC_FLAGS --oversubscribe)
  execute_process(COMMAND id -u OUTPUT_VARIABLE _uid OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(_uid STREQUAL "0")
    list(APPEND SYNSHARD_MPIEXEC_FLAGS --allow-run-as-root)
  endif()
endif()
