# cmake -DSYNSHARD=... -DOUTPUT=... -P BashCompletion.cmake
# The bash completion of synshard: its commands, then each command's options as its
# --help shows them.
include(${CMAKE_CURRENT_LIST_DIR}/SynshardHelp.cmake)
synshard_commands(${SYNSHARD})
set(cases "")
foreach(command IN LISTS SYNSHARD_COMMANDS)
  synshard_options(${SYNSHARD} ${command})
  list(JOIN SYNSHARD_OPTIONS " " options)
  string(APPEND cases "        ${command}) options=\"${options}\" ;;\n")
endforeach()
list(JOIN SYNSHARD_COMMANDS " " commands)
file(WRITE ${OUTPUT} "# bash completion for synshard (made from its --help at build time)
_synshard() {
    local cur=\${COMP_WORDS[COMP_CWORD]}
    if ((COMP_CWORD == 1)); then
        COMPREPLY=(\$(compgen -W \"${commands} --help --version\" -- \"\$cur\"))
        return
    fi
    local options=
    case \${COMP_WORDS[1]} in
${cases}    esac
    if [[ \$cur == -* ]]; then
        COMPREPLY=(\$(compgen -W \"\$options\" -- \"\$cur\"))
    else
        COMPREPLY=(\$(compgen -f -- \"\$cur\"))
    fi
}
complete -o filenames -o bashdefault -F _synshard synshard
")
