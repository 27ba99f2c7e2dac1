# cmake -DSYNSHARD=... -DHELP2MAN=... -DVERSION=... -DOUTPUT_DIR=... -P ManPages.cmake
# synshard.1 from `synshard --help` and synshard-C.1 from `synshard C --help` for each
# command C, by help2man.
include(${CMAKE_CURRENT_LIST_DIR}/SynshardHelp.cmake)
synshard_commands(${SYNSHARD})
file(MAKE_DIRECTORY ${OUTPUT_DIR})
function(help2man output help_option name)
  execute_process(
    COMMAND ${HELP2MAN} --no-info --no-discard-stderr --version-string=${VERSION}
            --section=1 --source=synshard --help-option=${help_option} --name=${name}
            --output=${output} ${SYNSHARD}
    RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "help2man for ${output} failed (${result})")
  endif()
endfunction()
foreach(command IN LISTS SYNSHARD_COMMANDS)
  help2man(${OUTPUT_DIR}/synshard-${command}.1 "${command} --help"
           "${SYNSHARD_SUMMARY_${command}}")
endforeach()
# Last: the main page is the output the build checks.
help2man(${OUTPUT_DIR}/synshard.1 --help
         "ImageNet-style corpora to deterministic, balanced HDF5 shards with MPI")
