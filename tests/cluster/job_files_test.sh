#!/usr/bin/env bash
# Cluster.job_files: every key of every [command] section of jobs/*.ini is an option of
# that command (`synshard COMMAND --help`), so a job file never fails at submission time
# with an unknown option. Sections of commands this build does not have are named and
# not checked.
source "$(dirname "$0")/common.sh"

checked=0
declare -A helps present # one `--help` per command
for job in "$source_dir"/jobs/*.ini; do
  # "section key" for every option line; comments and blank lines are skipped.
  while read -r section key; do
    [[ -n "${present[$section]:-}" ]] || present[$section]=$(has_command "$section" && echo yes || echo no)
    if [[ "${present[$section]}" == no ]]; then
      say "$(basename "$job") [$section]: no such command in this build; not checked"
      continue
    fi
    [[ -n "${helps[$section]:-}" ]] || helps[$section]=$("$synshard" "$section" --help)
    grep -Eq -- "^ +--$key( |\$)" <<<"${helps[$section]}" ||
      fail "$(basename "$job") [$section]: '$key' is not an option of synshard $section"
    checked=$((checked + 1))
  done < <(awk '/^[ \t]*[#;]/ || NF == 0 {next}
                /^\[/ {gsub(/[][ \t]/, ""); section = $0; next}
                {sub(/[ \t]*=.*/, ""); gsub(/^[ \t]+/, ""); print section, $0}' "$job" | sort -u)
done
((checked > 0)) || fail "no option was checked"
say "$checked options in $(ls "$source_dir"/jobs/*.ini | wc -l) job files are known to their commands"
