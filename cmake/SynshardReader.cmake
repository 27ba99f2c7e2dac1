# synshard_reader: the reading half of synshard_core (reader, the HDF5 layer and schema,
# the stored-image decoder, manifest, WordNet hierarchy), the same sources compiled a
# second time as a position-independent static library against Debian's *serial* HDF5
# and without MPI. Debian's python3-h5py links the serial HDF5, and two HDF5 libraries in
# one process clash, so whatever must live beside h5py (the Python package, a training
# loader) links this and never synshard_core.

# The serial flavour's own paths: find_package(HDF5) already answered "parallel" for
# synshard_core, and its cached results would answer the same here.
set(SYNSHARD_SERIAL_HDF5_ROOT /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/hdf5/serial
    CACHE PATH "Where Debian's serial HDF5 (libhdf5-dev) keeps its libraries")
find_library(SYNSHARD_SERIAL_HDF5_LIBRARY NAMES hdf5
             PATHS ${SYNSHARD_SERIAL_HDF5_ROOT} NO_DEFAULT_PATH)
find_path(SYNSHARD_SERIAL_HDF5_INCLUDE_DIR NAMES hdf5.h
          PATHS /usr/include/hdf5/serial NO_DEFAULT_PATH)
synshard_require(SYNSHARD_SERIAL_HDF5_LIBRARY "the serial HDF5 library" "libhdf5-dev")
synshard_require(SYNSHARD_SERIAL_HDF5_INCLUDE_DIR "the serial HDF5 headers" "libhdf5-dev")
file(STRINGS ${SYNSHARD_SERIAL_HDF5_INCLUDE_DIR}/H5pubconf.h _synshard_serial_is_parallel
     REGEX "^#define H5_HAVE_PARALLEL 1")
if(_synshard_serial_is_parallel)
  message(FATAL_ERROR "${SYNSHARD_SERIAL_HDF5_INCLUDE_DIR} holds a parallel HDF5; the reader "
                      "library needs the serial one (Debian's libhdf5-dev)")
endif()
add_library(synshard::serial_hdf5 UNKNOWN IMPORTED)
set_target_properties(synshard::serial_hdf5 PROPERTIES
  IMPORTED_LOCATION ${SYNSHARD_SERIAL_HDF5_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${SYNSHARD_SERIAL_HDF5_INCLUDE_DIR})

# src/CMakeLists.txt's SYNSHARD_READER_SOURCES: none includes mpi.h or the converter, and a
# link of this library that pulled in either would fail on an undefined MPI_* or convert
# symbol.
add_library(synshard_reader STATIC ${SYNSHARD_READER_SOURCES})
set_target_properties(synshard_reader PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_include_directories(synshard_reader
  PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_BINARY_DIR}/src/generated)
target_include_directories(synshard_reader SYSTEM PUBLIC ${OpenCV_INCLUDE_DIRS})
target_link_libraries(synshard_reader
  PUBLIC synshard::serial_hdf5 ${OpenCV_LIBS} nlohmann_json::nlohmann_json
  PRIVATE synshard_warnings Boost::program_options libjpeg-turbo::turbojpeg libjpeg-turbo::jpeg OpenSSL::Crypto PkgConfig::XXHASH
          PkgConfig::LIBEXIF PkgConfig::LIBPNG PkgConfig::LIBWEBP)
