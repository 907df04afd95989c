#pragma once
// The version of herd's C++ scenario API and the build fingerprint a scenario
// library is checked against when herd loads it (docs/compiled-scenarios.md).
// The API passes C++ objects (std::string, std::vector, virtual calls,
// coroutine handles) between herd and the library, so both must be built by
// the same compiler and standard library: the fingerprint names both, and herd
// refuses a library whose fingerprint differs from its own.

// Bumped whenever a type or a virtual function of include/herd/ changes.
#define HERD_API_VERSION 2

#define HERD_STRINGIFY_(x) #x
#define HERD_STRINGIFY(x) HERD_STRINGIFY_(x)

#if defined(__clang__)
#define HERD_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define HERD_COMPILER "gcc " __VERSION__
#else
#define HERD_COMPILER "unknown compiler"
#endif

#include <version>  // defines the standard library's own macros

#if defined(_LIBCPP_VERSION)
#define HERD_STDLIB "libc++ " HERD_STRINGIFY(_LIBCPP_VERSION)
#elif defined(__GLIBCXX__)
#define HERD_STDLIB                                                                                             \
  "libstdc++ " HERD_STRINGIFY(_GLIBCXX_RELEASE) " (" HERD_STRINGIFY(__GLIBCXX__) ", cxx11 abi " HERD_STRINGIFY( \
      _GLIBCXX_USE_CXX11_ABI) ")"
#else
#define HERD_STDLIB "unknown standard library"
#endif

// "gcc 12.2.0; libstdc++ 12 (20230528, cxx11 abi 1); C++ 202002L"
#define HERD_BUILD_FINGERPRINT HERD_COMPILER "; " HERD_STDLIB "; C++ " HERD_STRINGIFY(__cplusplus)
