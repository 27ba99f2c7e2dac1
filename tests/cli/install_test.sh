#!/usr/bin/env bash
# Cli.install: `cmake --install` puts synshard, a man page per command (help2man, at
# build time), the bash completion and the Python package under the prefix; a page
# renders; the completion completes commands and options and lists every option each
# command's --help shows; python3 imports the package from the prefix.
# Usage: install_test.sh BUILD_DIR
set -euo pipefail
build=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
if ! command -v help2man >/dev/null; then
  echo "SKIP: help2man is not installed: the install makes the man pages with it (bash cluster/install-deps.sh installs it)"
  exit 77
fi
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
# The pages and the completion are part of the default build (target synshard_docs).
[[ -f $build/doc/synshard.bash-completion ]] ||
  fail "$build has no doc/: build its default target (cmake --build $build)"
cmake --install "$build" --prefix "$prefix" >/dev/null
synshard=$prefix/bin/synshard
[[ -x $synshard ]] || fail "no bin/synshard under the prefix"

commands=$("$synshard" --help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {exit}')
[[ -n $commands ]] || fail "synshard --help lists no command"
man=$prefix/share/man/man1
[[ -f $man/synshard.1 ]] || fail "no $man/synshard.1"
for command in $commands; do
  [[ -f $man/synshard-$command.1 ]] || fail "no man page synshard-$command.1"
done
rendered=$(groff -man -Tutf8 "$man/synshard-convert.1" 2>&1 | col -b)
grep -q -- "--output" <<<"$rendered" || fail "synshard-convert.1 does not render --output: $rendered"
grep -q "EXAMPLES" <<<"$rendered" || fail "synshard-convert.1 has no EXAMPLES section"

# The Python package, where Debian's python3 looks for the prefix's packages.
site=$prefix/$(/usr/bin/python3 -c 'import sys; print(f"lib/python3.{sys.version_info.minor}/dist-packages")')
package=$(cd / && PYTHONPATH=$site /usr/bin/python3 -c 'import synshard; print(synshard._synshard.__file__)' 2>&1) ||
  fail "python3 cannot import synshard from $site: $package"
[[ $package == "$site"/synshard/_synshard.* ]] || fail "import synshard found $package, not the one in $site"

completion=$prefix/share/bash-completion/completions/synshard
[[ -f $completion ]] || fail "no $completion"
complete_words() {  # the completions of the words given, the last one being completed
  bash -c 'source "$1"; shift; complete -p synshard >/dev/null || exit 1
           COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
           _synshard synshard "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$completion" "$@"
}
[[ $(complete_words synshard conv) == convert ]] || fail "synshard conv completes to '$(complete_words synshard conv)'"
[[ $(complete_words synshard convert --ou) == --output ]] || fail "synshard convert --ou completes to '$(complete_words synshard convert --ou)'"
for command in $commands; do
  offered=$(complete_words synshard "$command" -- ; complete_words synshard "$command" -)
  for option in $("$synshard" "$command" --help | grep -oE '^  (-[a-z], )?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+$'); do
    grep -qx -- "$option" <<<"$offered" || fail "the completion of synshard $command lacks $option"
  done
done
echo "installed: synshard, $(ls "$man" | wc -l) man pages, the bash completion, the Python package"
