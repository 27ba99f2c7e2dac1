# Warnings are errors-in-waiting: keep the build clean under -Wall -Wextra -Wpedantic.
add_library(synshard_warnings INTERFACE)
target_compile_options(synshard_warnings INTERFACE -Wall -Wextra -Wpedantic)
if(SYNSHARD_SANITIZE)
  target_compile_options(synshard_warnings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(synshard_warnings INTERFACE -fsanitize=address,undefined)
endif()
