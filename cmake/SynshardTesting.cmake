include(GoogleTest)

# Sanitized builds run several times slower: .ci/sanitize.sh scales every test's timeout.
set(SYNSHARD_TEST_TIMEOUT_FACTOR 1 CACHE STRING "Multiplies every test's timeout")

# synshard_timeout(OUT seconds): the timeout a test gets in this build.
function(synshard_timeout out seconds)
  math(EXPR scaled "${seconds} * ${SYNSHARD_TEST_TIMEOUT_FACTOR}")
  set(${out} ${scaled} PARENT_SCOPE)
endfunction()

# synshard_add_mpi_test(NAME SOURCES file... [RANKS 1 2 4] [TIMEOUT seconds])
# Builds one MPI test binary and registers it with mpiexec once per rank count, as
# MPI.<NAME>.np<P>. MPI binaries are never run bare by gtest_discover_tests.
function(synshard_add_mpi_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;RANKS" ${ARGN})
  if(NOT ARG_RANKS)
    set(ARG_RANKS 1 2 4)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  synshard_timeout(ARG_TIMEOUT ${ARG_TIMEOUT})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE synshard_test_support synshard_warnings)
  foreach(ranks IN LISTS ARG_RANKS)
    add_test(NAME MPI.${name}.np${ranks}
             COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${ranks}
                     ${SYNSHARD_MPIEXEC_FLAGS} ${MPIEXEC_PREFLAGS}
                     $<TARGET_FILE:${name}> ${MPIEXEC_POSTFLAGS})
    set_tests_properties(MPI.${name}.np${ranks} PROPERTIES
      TIMEOUT ${ARG_TIMEOUT} PROCESSORS ${ranks} LABELS mpi
      ENVIRONMENT "SYNSHARD_TEST_DATA=${PROJECT_SOURCE_DIR}/tests/data")
  endforeach()
endfunction()
