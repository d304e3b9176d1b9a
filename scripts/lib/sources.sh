# shellcheck shell=bash
# The C++ sources the lint steps (clang-format, clang-tidy) check, one path per line relative to the top directory.
# In a git checkout: tracked files and new ones not ignored. In a tree without git (a source tarball, or git not
# installed): every .cpp/.hpp under the source directories, so the lint step works there too.
list_cpp_sources() {
  if command -v git >/dev/null && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files --cached --others --exclude-standard -- '*.cpp' '*.hpp'
  else
    local dirs=() dir
    for dir in src include tests bench; do [[ -d $dir ]] && dirs+=("$dir"); done
    ((${#dirs[@]} > 0)) || return 0
    find "${dirs[@]}" -type f \( -name '*.cpp' -o -name '*.hpp' \) | LC_ALL=C sort
  fi
}
