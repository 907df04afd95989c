# Helper functions shared by every module's CMakeLists.txt.

# Warnings for herd's own targets only (third-party headers come in as SYSTEM).
function(herd_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
      -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wnull-dereference
      -Wimplicit-fallthrough>)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
endfunction()

# herd_library(NAME SOURCES... DEPS...): one static library per module folder.
function(herd_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  herd_warnings(${name})
endfunction()

# herd_test(NAME SOURCES... DEPS... LABELS...): a GoogleTest binary registered with CTest.
function(herd_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT HERD_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  herd_warnings(${name})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  include(GoogleTest)
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 30)
endfunction()

# herd_fuzzer(NAME SOURCES... DEPS...): a libFuzzer target, built only with clang
# and HERD_BUILD_FUZZERS=ON (the `fuzz` preset, which instruments every library
# with -fsanitize=fuzzer-no-link so the fuzzer sees coverage of the code under test).
function(herd_fuzzer name)
  cmake_parse_arguments(ARG "" "DICT" "SOURCES;DEPS;SEEDS" ${ARGN})
  if(NOT HERD_BUILD_FUZZERS)
    return()
  endif()
  # scripts/fuzz reads NAME.fuzz beside the binary: seed folders and a dictionary.
  set(manifest "")
  foreach(dir IN LISTS ARG_SEEDS)
    string(APPEND manifest "seeds ${CMAKE_CURRENT_SOURCE_DIR}/${dir}\n")
  endforeach()
  if(ARG_DICT)
    string(APPEND manifest "dict ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_DICT}\n")
  endif()
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/${name}.fuzz "${manifest}")
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  herd_warnings(${name})
endfunction()
