# `cmake --install`: the synshard binary, a man page per command and the bash completion.
# Both are made at build time from the commands' --help (the pages by help2man, skipped
# with a message where it is missing), so that neither can go stale.
include(GNUInstallDirs)
install(TARGETS synshard RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(SYNSHARD_DOC_DIR ${PROJECT_BINARY_DIR}/doc)
set(SYNSHARD_COMPLETION ${SYNSHARD_DOC_DIR}/synshard.bash-completion)
add_custom_command(
  OUTPUT ${SYNSHARD_COMPLETION}
  COMMAND ${CMAKE_COMMAND} -DSYNSHARD=$<TARGET_FILE:synshard> -DOUTPUT=${SYNSHARD_COMPLETION}
          -P ${CMAKE_CURRENT_LIST_DIR}/BashCompletion.cmake
  DEPENDS synshard ${CMAKE_CURRENT_LIST_DIR}/BashCompletion.cmake
          ${CMAKE_CURRENT_LIST_DIR}/SynshardHelp.cmake
  COMMENT "bash completion from synshard's --help")
set(SYNSHARD_DOC_OUTPUTS ${SYNSHARD_COMPLETION})
install(FILES ${SYNSHARD_COMPLETION}
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME synshard)

find_program(HELP2MAN_EXECUTABLE help2man)
if(HELP2MAN_EXECUTABLE)
  set(SYNSHARD_MAN_DIR ${SYNSHARD_DOC_DIR}/man1)
  add_custom_command(
    OUTPUT ${SYNSHARD_MAN_DIR}/synshard.1
    COMMAND ${CMAKE_COMMAND} -DSYNSHARD=$<TARGET_FILE:synshard> -DHELP2MAN=${HELP2MAN_EXECUTABLE}
            -DVERSION=${PROJECT_VERSION} -DOUTPUT_DIR=${SYNSHARD_MAN_DIR}
            -P ${CMAKE_CURRENT_LIST_DIR}/ManPages.cmake
    DEPENDS synshard ${CMAKE_CURRENT_LIST_DIR}/ManPages.cmake
            ${CMAKE_CURRENT_LIST_DIR}/SynshardHelp.cmake
    COMMENT "man pages from synshard's --help (help2man)")
  list(APPEND SYNSHARD_DOC_OUTPUTS ${SYNSHARD_MAN_DIR}/synshard.1)
  install(DIRECTORY ${SYNSHARD_MAN_DIR} DESTINATION ${CMAKE_INSTALL_MANDIR})
else()
  message(STATUS "help2man not found: no man pages (Debian: apt-get install help2man)")
endif()
add_custom_target(synshard_docs ALL DEPENDS ${SYNSHARD_DOC_OUTPUTS})
