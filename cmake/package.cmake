# `cmake --install`: the herd binary, the C++ scenario API's headers and the
# CMake package that builds scenario libraries (cmake/herdConfig.cmake.in).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

file(STRINGS ${PROJECT_SOURCE_DIR}/include/herd/version.h _herd_api_line REGEX "^#define HERD_API_VERSION ")
string(REGEX REPLACE "^#define HERD_API_VERSION ([0-9]+).*" "\\1" HERD_API_VERSION "${_herd_api_line}")

install(TARGETS herd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/herd DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(_herd_package_dir ${CMAKE_INSTALL_LIBDIR}/cmake/herd)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/herdConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/herdConfig.cmake
  INSTALL_DESTINATION ${_herd_package_dir}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/herdConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/herdConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/herdConfigVersion.cmake
  DESTINATION ${_herd_package_dir})
