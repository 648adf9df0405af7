# Every dependency comes from a Debian 12 package (see DEVELOPERS.md; scripts/setup
# installs them). No FetchContent, no vendored copies.

find_package(PkgConfig REQUIRED)

# libfdt-dev ships neither a pkg-config file nor a CMake config: find it by hand.
find_path(LIBFDT_INCLUDE_DIR libfdt.h REQUIRED)
find_library(LIBFDT_LIBRARY fdt REQUIRED)
# The static archives (the same packages ship them) are for a fully static khospec
# binary: a target with the property KHOSPEC_STATIC_LINK links libfdt.a and
# libyaml-cpp.a instead of the shared libraries (khospec_static_executable()).
find_library(LIBFDT_STATIC_LIBRARY NAMES libfdt.a)
find_library(YAML_CPP_STATIC_LIBRARY NAMES libyaml-cpp.a)
set(_static "$<BOOL:$<TARGET_PROPERTY:KHOSPEC_STATIC_LINK>>")
add_library(khospec_libfdt INTERFACE IMPORTED)
set_target_properties(khospec_libfdt PROPERTIES
  INTERFACE_LINK_LIBRARIES "$<IF:${_static},${LIBFDT_STATIC_LIBRARY},${LIBFDT_LIBRARY}>"
  INTERFACE_INCLUDE_DIRECTORIES "${LIBFDT_INCLUDE_DIR}")

# yaml-cpp (libyaml-cpp-dev) ships a CMake config. khospec's targets link
# khospec_yaml_cpp, which picks the shared or the static library.
find_package(yaml-cpp REQUIRED)
if(NOT TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp::yaml-cpp ALIAS yaml-cpp)
endif()
add_library(khospec_yaml_cpp INTERFACE)
target_link_libraries(khospec_yaml_cpp INTERFACE "$<IF:${_static},${YAML_CPP_STATIC_LIBRARY},yaml-cpp::yaml-cpp>")
target_include_directories(khospec_yaml_cpp INTERFACE $<TARGET_PROPERTY:yaml-cpp::yaml-cpp,INTERFACE_INCLUDE_DIRECTORIES>)

# The decompressors for kernel images (conformance/kimage): zlib1g-dev,
# liblzma-dev, libzstd-dev, liblz4-dev, libbz2-dev. khospec_decompress picks
# the shared or, for the static khospec binary, the static libraries.
add_library(khospec_decompress INTERFACE)
foreach(_lib z lzma zstd lz4 bz2)
  find_library(KHOSPEC_LIB_${_lib} NAMES ${_lib} REQUIRED)
  find_library(KHOSPEC_LIB_${_lib}_STATIC NAMES lib${_lib}.a REQUIRED)
  target_link_libraries(khospec_decompress INTERFACE
    "$<IF:${_static},${KHOSPEC_LIB_${_lib}_STATIC},${KHOSPEC_LIB_${_lib}}>")
endforeach()
foreach(_h zlib.h lzma.h zstd.h lz4frame.h bzlib.h)
  string(MAKE_C_IDENTIFIER ${_h} _id)
  find_path(KHOSPEC_INCLUDE_${_id} ${_h} REQUIRED)
endforeach()

find_package(GTest REQUIRED)
include(GoogleTest)

# The spec's proof obligations (spec/, z3++ only there): libz3-dev.
pkg_check_modules(Z3 REQUIRED IMPORTED_TARGET z3)
find_package(Threads REQUIRED)
# Optional in this foundation: later layers (bench/, bindings/) require them.
find_package(rapidcheck CONFIG REQUIRED)
# Google Benchmark (libbenchmark-dev): CI builds bench/ and runs its smoke test.
find_package(benchmark CONFIG REQUIRED)
