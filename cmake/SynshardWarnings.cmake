# Warnings are errors-in-waiting: keep the build clean under -Wall -Wextra -Wpedantic.
add_library(synshard_warnings INTERFACE)
target_compile_options(synshard_warnings INTERFACE -Wall -Wextra -Wpedantic)
# GCC 12 (Debian 12's) warns -Wrestrict on every `"text" + std::to_string(n)` at -O2, a
# false positive of its inlined memcpy bounds fixed in GCC 13 (GCC bug 105651); it would
# bury the real warnings.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(synshard_warnings INTERFACE -Wno-restrict)
endif()
if(SYNSHARD_SANITIZE)
  target_compile_options(synshard_warnings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(synshard_warnings INTERFACE -fsanitize=address,undefined)
endif()
