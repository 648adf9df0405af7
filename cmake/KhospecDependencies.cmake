# Every dependency comes from a Debian 12 package (see DEVELOPERS.md; scripts/setup
# installs them). No FetchContent, no vendored copies.

find_package(PkgConfig REQUIRED)

# libfdt-dev ships neither a pkg-config file nor a CMake config: find it by hand.
find_path(LIBFDT_INCLUDE_DIR libfdt.h REQUIRED)
find_library(LIBFDT_LIBRARY fdt REQUIRED)
add_library(khospec_libfdt UNKNOWN IMPORTED)
set_target_properties(khospec_libfdt PROPERTIES
  IMPORTED_LOCATION "${LIBFDT_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${LIBFDT_INCLUDE_DIR}")

# yaml-cpp (libyaml-cpp-dev) ships a CMake config.
find_package(yaml-cpp REQUIRED)
if(NOT TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp::yaml-cpp ALIAS yaml-cpp)
endif()

find_package(GTest REQUIRED)
include(GoogleTest)

# The spec's proof obligations (spec/, z3++ only there): libz3-dev.
pkg_check_modules(Z3 REQUIRED IMPORTED_TARGET z3)
find_package(Threads REQUIRED)
# Optional in this foundation: later layers (bench/, bindings/) require them.
find_package(rapidcheck CONFIG REQUIRED)
# Google Benchmark (libbenchmark-dev): CI builds bench/ and runs its smoke test.
find_package(benchmark CONFIG REQUIRED)
