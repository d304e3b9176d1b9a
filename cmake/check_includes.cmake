# cmake -DCOMPONENT=<name> -DALLOWED=<a,b,...> -DUSES=<healthd/x/y.hpp,...> -DROOT=<source dir> -DSTAMP=<file>
#       -P check_includes.cmake
# Fails when a file of COMPONENT includes a "healthd/<other>/..." header of a component it does not depend on
# (ALLOWED: itself and its dependencies, transitively) and that is not one of the single headers in USES.
cmake_minimum_required(VERSION 3.25)
string(REPLACE "," ";" allowed "${ALLOWED}")
string(REPLACE "," ";" uses "${USES}")
file(GLOB_RECURSE files ${ROOT}/src/${COMPONENT}/*.cpp ${ROOT}/src/${COMPONENT}/*.hpp
     ${ROOT}/include/healthd/${COMPONENT}/*.hpp)
set(errors "")
foreach(path IN LISTS files)
  file(STRINGS ${path} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"healthd/[a-z_]+/")
  foreach(line IN LISTS lines)
    if(line MATCHES "\"(healthd/([a-z_]+)/[^\"]+)\"")
      set(header ${CMAKE_MATCH_1})
      set(target_component ${CMAKE_MATCH_2})
      if(NOT target_component IN_LIST allowed AND NOT header IN_LIST uses)
        file(RELATIVE_PATH relative ${ROOT} ${path})
        string(APPEND errors "  ${relative} includes ${header}\n")
      endif()
    endif()
  endforeach()
endforeach()
if(errors)
  string(REPLACE ";" ", " allowed_text "${allowed}")
  message(FATAL_ERROR "include graph: component '${COMPONENT}' may include only ${allowed_text}"
                      " (docs/architecture.md):\n${errors}")
endif()
file(WRITE ${STAMP} "ok\n")
