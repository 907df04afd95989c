# The module rules of docs/design.md, checked when CMake configures, so a change
# that breaks them fails `cmake --preset ...` before anything compiles:
#
#   - agent/ and operator/ never include each other; common/ includes neither;
#   - no target defined under operator/ links (transitively) a target defined
#     under agent/, and the reverse; common/ links neither;
#   - the command line's own libraries (herd_output, herd_metrics) are linked only
#     from agent/cli (and their own folders' tests);
#   - each third-party library's headers are included only where it lives.
#
# The include rules are also a CTest test (cmake/check_includes.cmake), so an
# edit made after configuring fails `ctest -L unit` too.

include(${CMAKE_CURRENT_LIST_DIR}/check_includes.cmake)

# The command line's own libraries, and the folders whose targets may link them.
set(_herd_cli_only_targets herd_output herd_metrics)
set(_herd_cli_folders agent/cli agent/output agent/metrics)

# The folder that defines `target`, relative to the source tree ("agent/cli"),
# or "" for imported targets.
function(_herd_target_dir target out)
  get_target_property(imported ${target} IMPORTED)
  if(imported)
    set(${out} "" PARENT_SCOPE)
    return()
  endif()
  get_target_property(dir ${target} SOURCE_DIR)
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${dir})
  set(${out} "${rel}" PARENT_SCOPE)
endfunction()

# The top folder of the module that defines `target` (agent, operator, common,
# proto, tests, bench), or "" for imported targets.
function(_herd_target_area target out)
  _herd_target_dir(${target} rel)
  string(REGEX REPLACE "/.*" "" area "${rel}")
  set(${out} "${area}" PARENT_SCOPE)
endfunction()

# Every target a `target_link_libraries` item names: generator expressions that
# only wrap a target ($<LINK_ONLY:x>) are unwrapped, CMake's directory markers
# (x::@(id)) dropped, other expressions and plain flags or files skipped.
function(_herd_link_items target out)
  set(items "")
  foreach(property LINK_LIBRARIES INTERFACE_LINK_LIBRARIES)
    get_target_property(values ${target} ${property})
    if(values)
      list(APPEND items ${values})
    endif()
  endforeach()
  set(result "")
  foreach(item IN LISTS items)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" item "${item}")
    string(REGEX REPLACE "::@\\(.*\\)$" "" item "${item}")
    if(item MATCHES "^::@" OR item MATCHES "\\$<" OR NOT TARGET "${item}")
      continue()
    endif()
    get_target_property(aliased ${item} ALIASED_TARGET)
    if(aliased)
      set(item ${aliased})
    endif()
    list(APPEND result ${item})
  endforeach()
  list(REMOVE_DUPLICATES result)
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

# The first target reachable from `root` whose area is in `forbidden` (or that is
# named there as "target:NAME"), with the
# chain that reaches it ("herd-operator -> herd_live_coordinator -> herd_runtime"),
# or "" when there is none. Breadth-first, each target visited once.
function(_herd_forbidden_link root forbidden out)
  set(queue ${root})
  set(seen ${root})
  set(chain_${root} ${root})
  while(queue)
    list(POP_FRONT queue current)
    _herd_link_items(${current} deps)
    foreach(dep IN LISTS deps)
      if(dep IN_LIST seen)
        continue()
      endif()
      list(APPEND seen ${dep})
      set(chain_${dep} "${chain_${current}} -> ${dep}")
      _herd_target_area(${dep} area)
      if(area IN_LIST forbidden OR "target:${dep}" IN_LIST forbidden)
        set(${out} "${chain_${dep}}" PARENT_SCOPE)
        return()
      endif()
      list(APPEND queue ${dep})
    endforeach()
  endwhile()
  set(${out} "" PARENT_SCOPE)
endfunction()

function(_herd_targets_in dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    _herd_targets_in(${sub} more)
    list(APPEND targets ${more})
  endforeach()
  set(${out} "${targets}" PARENT_SCOPE)
endfunction()

# Call once, at the end of the top-level CMakeLists.txt (every target defined).
function(herd_check_layering)
  herd_check_includes(${PROJECT_SOURCE_DIR} include_errors)
  set(errors "${include_errors}")
  set(forbidden_for_operator agent)
  set(forbidden_for_agent operator)
  set(forbidden_for_common agent operator)
  _herd_targets_in(${PROJECT_SOURCE_DIR} targets)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "UTILITY")
      continue()
    endif()
    _herd_target_area(${target} area)
    _herd_target_dir(${target} dir)
    set(forbidden "")
    if(DEFINED forbidden_for_${area})
      set(forbidden ${forbidden_for_${area}})
    endif()
    if(area STREQUAL "agent" OR area STREQUAL "common" OR area STREQUAL "operator")
      if(NOT dir IN_LIST _herd_cli_folders)
        list(TRANSFORM _herd_cli_only_targets PREPEND "target:" OUTPUT_VARIABLE cli_only)
        list(APPEND forbidden ${cli_only})
      endif()
    endif()
    if(NOT forbidden)
      continue()
    endif()
    _herd_forbidden_link(${target} "${forbidden}" chain)
    if(chain)
      list(APPEND errors "${area}/ target links across modules: ${chain}")
    endif()
  endforeach()
  if(errors)
    list(JOIN errors "\n  " text)
    message(FATAL_ERROR "Layering rules broken (docs/design.md, \"Rules the build enforces\"):\n  ${text}")
  endif()
endfunction()
