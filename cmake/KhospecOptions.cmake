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
