# Build options shared by every khospec target.

option(KHOSPEC_SANITIZE "Build with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
option(KHOSPEC_WERROR "Treat warnings as errors on khospec's own code" ON)

set(KHOSPEC_WARNINGS -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Wformat=2 -Wimplicit-fallthrough)
# GCC 12 at -O3 reports -Wrestrict inside std::string's own code (GCC bug
# 105329), which would make the release preset fail under -Werror.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND KHOSPEC_WARNINGS -Wno-restrict)
endif()
if(KHOSPEC_WERROR)
  list(APPEND KHOSPEC_WARNINGS -Werror)
endif()

if(KHOSPEC_SANITIZE)
  # -fno-sanitize-recover: any UB report fails the test that triggered it.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
endif()

option(KHOSPEC_STATIC_CLI "Link the khospec binary fully static (its start-up cost, docs/bench.md)" ON)

# khospec_static_executable(<target>): links <target> with -static against
# libfdt.a and libyaml-cpp.a. A short-lived CLI spends most of a small run in
# the dynamic loader (mapping libstdc++, libyaml-cpp, libfdt and relocating a
# PIE against them); a static non-PIE binary has no loader and no relocations.
# Not with sanitizers (their runtimes are shared libraries), and only when the
# toolchain can link a static C++ program; otherwise the link stays dynamic.
function(khospec_static_executable target)
  if(KHOSPEC_SANITIZE OR NOT KHOSPEC_STATIC_CLI)
    return()
  endif()
  if(NOT DEFINED CACHE{KHOSPEC_CAN_LINK_STATIC})
    include(CheckCXXSourceCompiles)
    set(CMAKE_REQUIRED_LINK_OPTIONS -static)
    set(CMAKE_REQUIRED_QUIET ON)
    check_cxx_source_compiles("#include <iostream>\nint main() { std::cout << 1; }" KHOSPEC_CAN_LINK_STATIC)
  endif()
  if(NOT KHOSPEC_CAN_LINK_STATIC OR NOT LIBFDT_STATIC_LIBRARY OR NOT YAML_CPP_STATIC_LIBRARY)
    message(STATUS "khospec: no static libc/libstdc++, libfdt.a or libyaml-cpp.a: ${target} is linked dynamically")
    return()
  endif()
  set_target_properties(${target} PROPERTIES KHOSPEC_STATIC_LINK ON)
  target_link_options(${target} PRIVATE -static)
endfunction()

# khospec_target_flags(<target>): our warning set (not applied to dependencies).
function(khospec_target_flags target)
  target_compile_options(${target} PRIVATE ${KHOSPEC_WARNINGS})
endfunction()

# khospec_add_library(<name> SOURCES ... [DEPS ...])
function(khospec_add_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${A_DEPS})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  khospec_target_flags(${name})
endfunction()

# khospec_add_gtest(<name> SOURCES ... [DEPS ...] [LABELS ...])
# One gtest binary; every TEST in it becomes its own ctest case.
function(khospec_add_gtest name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS} GTest::gtest GTest::gtest_main)
  khospec_target_flags(${name})
  # gtest_discover_tests() splits list-valued properties: escape the ';'.
  string(REPLACE ";" "\\;" _labels "unit;${A_LABELS}")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS "${_labels}")
endfunction()
