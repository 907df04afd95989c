# The include rules of docs/design.md ("Rules the build enforces"), over every
# .h and .cc under agent/, common/ and operator/. Used two ways:
#   include() + herd_check_includes(SOURCE_DIR errors)   from cmake/layering.cmake
#   cmake -DHERD_SOURCE_DIR=DIR -P cmake/check_includes.cmake   (the CTest test)

# Third-party headers, by include prefix, and the folders (comma-separated) that
# may include them.
# A folder ending in ".cc" may include it in its .cc files only, so the library
# stays out of every header (and out of every other folder through them); a file
# path allows that one file.
set(_herd_third_party
  "yaml-cpp/|common/scenario"
  "re2/|common/scenario.cc"
  "simdjson|common/scenario.cc"
  "cpprest/|common/k8s.cc"
  "pplx/|common/k8s.cc"
  "openssl/|agent/engine.cc,common/core.cc,common/k8s/rest_transport.cc"
  "nghttp2/|agent/engine.cc"
  "google/protobuf/|common/scenario.cc"
  "CLI/|agent/cli/cli11.h,agent/cli.cc,operator/main.cc"
  "zlib.h|common/report.cc"
  "spdlog/|common/core"
  "grpcpp/|common/coordinator,agent/remote,operator/coordinator/live_coordinator_test.cc"
  "grpc/|common/coordinator,agent/remote"
  "absl/|common/coordinator.cc,operator/controller.cc"
  "nlohmann/|common/core/json.h"
  # herd's own public C++ scenario API (include/herd/): the loader and the
  # runtime that implements herd::User, nothing else.
  "herd/herd.h|common/scenario/code_library.cc,agent/runtime/code_user.h"
  "herd/version.h|common/scenario/code_library.cc,agent/runtime/code_user.h"
)

# Folders of our own that only some folders may include, with those folders: the
# command line's output and metrics listener are for agent/cli alone.
set(_herd_private_modules
  "agent/output/|agent/cli,agent/output"
  "agent/metrics/|agent/cli,agent/metrics"
)

# The module folders a file under `area` must not include.
set(_herd_forbidden_agent "operator/")
set(_herd_forbidden_operator "agent/")
set(_herd_forbidden_common "agent/;operator/")

# Whether `rel` (a file's path in the tree) may include a header of a library
# allowed in `allowed` (a list of folders, each optionally ending in ".cc").
function(_herd_include_allowed rel allowed out)
  get_filename_component(dir ${rel} DIRECTORY)
  get_filename_component(ext ${rel} LAST_EXT)
  foreach(entry IN LISTS allowed)
    if(entry STREQUAL rel)
      set(${out} TRUE PARENT_SCOPE)
      return()
    endif()
    set(folder ${entry})
    set(cc_only FALSE)
    if(entry MATCHES "^(.*)\\.cc$")
      set(folder ${CMAKE_MATCH_1})
      set(cc_only TRUE)
    endif()
    if(dir STREQUAL folder OR dir MATCHES "^${folder}/")
      if(NOT cc_only OR ext STREQUAL ".cc")
        set(${out} TRUE PARENT_SCOPE)
        return()
      endif()
    endif()
  endforeach()
  set(${out} FALSE PARENT_SCOPE)
endfunction()

function(herd_check_includes root out)
  file(GLOB_RECURSE files RELATIVE ${root}
    ${root}/agent/*.h ${root}/agent/*.cc
    ${root}/common/*.h ${root}/common/*.cc
    ${root}/operator/*.h ${root}/operator/*.cc)
  set(errors "")
  foreach(rel IN LISTS files)
    string(REGEX REPLACE "/.*" "" area "${rel}")
    file(STRINGS ${root}/${rel} lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]*)[>\"].*" "\\1" header "${line}")
      foreach(prefix IN LISTS _herd_forbidden_${area})
        if(header MATCHES "^${prefix}")
          list(APPEND errors "${rel} includes ${header}: ${area}/ must not include ${prefix}")
        endif()
      endforeach()
      foreach(rule IN LISTS _herd_third_party _herd_private_modules)
        string(REGEX REPLACE "\\|.*" "" prefix "${rule}")
        string(REGEX REPLACE "^[^|]*\\|" "" allowed "${rule}")
        string(REPLACE "," ";" allowed "${allowed}")
        if(header MATCHES "^${prefix}")
          _herd_include_allowed(${rel} "${allowed}" ok)
          if(NOT ok)
            list(JOIN allowed ", " where)
            string(REGEX REPLACE "\\.cc(,|$)" " (.cc files)\\1" where "${where}")
            list(APPEND errors "${rel} includes <${header}>: only ${where} may")
          endif()
        endif()
      endforeach()
    endforeach()
  endforeach()
  set(${out} "${errors}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE AND HERD_SOURCE_DIR)
  herd_check_includes(${HERD_SOURCE_DIR} errors)
  if(errors)
    list(JOIN errors "\n  " text)
    message(FATAL_ERROR "Include rules broken (docs/design.md):\n  ${text}")
  endif()
endif()
