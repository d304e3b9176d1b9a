#!/usr/bin/env bash
# The lint step's source list (scripts/lib/sources.sh) in a tree without .git — a source tarball, or a machine
# without git — must name the same files as in the checkout (issue 10, defect 5: scripts/test stopped at
# "git: command not found" on a fresh Debian 12).
#   lint_sources_without_git.sh <source dir>
set -euo pipefail
top=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$top/scripts/lib/sources.sh"

expected=$(cd "$top" && list_cpp_sources)
[[ -n $expected ]] || { echo "no sources listed in $top" >&2; exit 1; }
# The tarball: the listed files copied without .git, listed once with git installed and once with a PATH that
# holds only what the listing may use (no git).
mkdir "$work/tree" "$work/bin"
(cd "$top" && printf '%s\n' "$expected" | tar -cf - -T -) | tar -xf - -C "$work/tree"
for tool in find sort; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
check() {
  local what=$1 actual
  actual=$(cd "$work/tree" && PATH=$2 list_cpp_sources 2>&1) || { echo "$what: listing failed: $actual" >&2; exit 1; }
  if [[ $actual != "$expected" ]]; then
    echo "$what: not the checkout's list:" >&2
    diff <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") >&2 || true
    exit 1
  fi
  echo "$what: same $(printf '%s\n' "$actual" | wc -l) files"
}
check "tarball, git installed" "$PATH"
check "tarball, no git" "$work/bin"
