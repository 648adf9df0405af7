# libFuzzer targets (docs/fuzz.md). The default build uses g++, which has no
# libFuzzer, so every fuzz target is built by custom commands that call
# Debian's clang++: each khospec library a fuzzer needs is compiled once, file
# by file, with -fsanitize=fuzzer-no-link,address,undefined into an archive
# under <build>/fuzz/lib, and each fuzzer is one source linked against those
# archives with -fsanitize=fuzzer. The g++ build is untouched.
#
# khospec_add_fuzzer(NAME <name> SOURCES <fuzz.cpp> LIBS <khospec_lib>...
#                    [SEEDS <glob>...] [ENV VAR=VALUE...] [ARGS <libFuzzer flag>...])
# adds the binary <build>/fuzz/fuzz_<name>, the ctest case fuzz/<name> (label
# fuzz: a short seeded run in a fresh work directory) and
# <build>/fuzz/<name>.args.cmake, which scripts/fuzz reads for the long run.
# SEEDS are globs copied into the seed directory (files under 1 MiB); ENV is
# passed to the fuzzer, whose LLVMFuzzerInitialize may write further seeds
# into $KHOSPEC_FUZZ_SEED_OUT (core/fuzz_seed.hpp).

option(KHOSPEC_FUZZ "Build the libFuzzer targets with clang++ and run them briefly in ctest" ON)
find_program(KHOSPEC_CLANGXX NAMES clang++ clang++-14)
set(KHOSPEC_FUZZ_FLAGS -std=c++20 -O1 -g -fno-omit-frame-pointer
    -fsanitize=address,undefined -fno-sanitize-recover=undefined)

function(khospec_fuzz_enabled out)
  if(KHOSPEC_FUZZ AND KHOSPEC_CLANGXX)
    set(${out} ON PARENT_SCOPE)
  else()
    set(${out} OFF PARENT_SCOPE)
  endif()
endfunction()

# The absolute source files of khospec library `lib` ($<TARGET_OBJECTS:x> followed).
function(_khospec_fuzz_lib_sources lib out)
  get_target_property(srcs ${lib} SOURCES)
  get_target_property(dir ${lib} SOURCE_DIR)
  set(res)
  foreach(s IN LISTS srcs)
    if(s MATCHES "^\\$<TARGET_OBJECTS:([A-Za-z0-9_]+)>$")
      _khospec_fuzz_lib_sources(${CMAKE_MATCH_1} sub)
      list(APPEND res ${sub})
    elseif(s MATCHES "\\.cpp$")
      if(NOT IS_ABSOLUTE ${s})
        set(s ${dir}/${s})
      endif()
      list(APPEND res ${s})
    endif()
  endforeach()
  set(${out} ${res} PARENT_SCOPE)
endfunction()

# Every khospec library `libs` reach through their link dependencies, each once.
function(_khospec_fuzz_closure out)
  set(todo ${ARGN})
  set(seen)
  while(todo)
    list(POP_FRONT todo lib)
    if(NOT TARGET ${lib} OR lib IN_LIST seen)
      continue()
    endif()
    get_target_property(type ${lib} TYPE)
    if(NOT type STREQUAL "STATIC_LIBRARY")
      continue()
    endif()
    list(APPEND seen ${lib})
    get_target_property(deps ${lib} LINK_LIBRARIES)
    if(deps)
      list(APPEND todo ${deps})
    endif()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# The clang-built archive of khospec library `lib`, added once.
function(_khospec_fuzz_archive lib out)
  file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/fuzz/lib)
  set(ar ${PROJECT_BINARY_DIR}/fuzz/lib/lib${lib}.a)
  set(${out} ${ar} PARENT_SCOPE)
  get_property(done GLOBAL PROPERTY KHOSPEC_FUZZ_ARCHIVE_${lib})
  if(done)
    return()
  endif()
  set_property(GLOBAL PROPERTY KHOSPEC_FUZZ_ARCHIVE_${lib} ON)
  _khospec_fuzz_lib_sources(${lib} srcs)
  set(objs)
  foreach(s IN LISTS srcs)
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${s})
    if(rel MATCHES "^\\.\\.")
      file(RELATIVE_PATH rel ${PROJECT_BINARY_DIR} ${s})
      set(rel gen/${rel})
    endif()
    set(o ${PROJECT_BINARY_DIR}/fuzz/obj/${rel}.o)
    get_filename_component(odir ${o} DIRECTORY)
    file(MAKE_DIRECTORY ${odir})
    add_custom_command(
      OUTPUT ${o}
      COMMAND ${CMAKE_CXX_COMPILER_LAUNCHER} ${KHOSPEC_CLANGXX} ${KHOSPEC_FUZZ_FLAGS} -fsanitize=fuzzer-no-link
              -I${PROJECT_SOURCE_DIR} -I${LIBFDT_INCLUDE_DIR} -MD -MF ${o}.d -c ${s} -o ${o}
      DEPENDS ${s}
      DEPFILE ${o}.d
      COMMENT "clang++ (fuzz) ${rel}"
      VERBATIM)
    list(APPEND objs ${o})
  endforeach()
  add_custom_command(
    OUTPUT ${ar}
    COMMAND ${CMAKE_COMMAND} -E rm -f ${ar}
    COMMAND ${CMAKE_AR} qc ${ar} ${objs}
    COMMAND ${CMAKE_RANLIB} ${ar}
    DEPENDS ${objs}
    COMMENT "Archiving ${lib} for the fuzzers"
    VERBATIM)
  add_custom_target(fuzzlib_${lib} DEPENDS ${ar})
  # Generated sources (the schema pack) come from the g++ build's targets.
  add_dependencies(fuzzlib_${lib} ${lib})
endfunction()

function(khospec_add_fuzzer)
  cmake_parse_arguments(A "" "NAME" "SOURCES;LIBS;SEEDS;ENV;ARGS" ${ARGN})
  khospec_fuzz_enabled(on)
  if(NOT on)
    message(STATUS "khospec: clang++ not found (or KHOSPEC_FUZZ=OFF): fuzz/${A_NAME} not built")
    return()
  endif()
  _khospec_fuzz_closure(libs ${A_LIBS})
  set(archives)
  set(targets)
  foreach(lib IN LISTS libs)
    _khospec_fuzz_archive(${lib} ar)
    list(APPEND archives ${ar})
    list(APPEND targets fuzzlib_${lib})
  endforeach()
  list(TRANSFORM A_SOURCES PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/)
  set(bin ${PROJECT_BINARY_DIR}/fuzz/fuzz_${A_NAME})
  add_custom_command(
    OUTPUT ${bin}
    COMMAND ${KHOSPEC_CLANGXX} ${KHOSPEC_FUZZ_FLAGS} -fsanitize=fuzzer -I${PROJECT_SOURCE_DIR} -I${LIBFDT_INCLUDE_DIR}
            -MD -MF ${bin}.d ${A_SOURCES} -o ${bin}
            -Wl,--start-group ${archives} -Wl,--end-group -lyaml-cpp ${LIBFDT_LIBRARY}
    DEPENDS ${A_SOURCES} ${archives}
    DEPFILE ${bin}.d
    COMMENT "Building the libFuzzer target fuzz_${A_NAME} with ${KHOSPEC_CLANGXX}"
    VERBATIM)
  add_custom_target(fuzz_${A_NAME} ALL DEPENDS ${bin})
  add_dependencies(fuzz_${A_NAME} ${targets})
  set(args ${PROJECT_BINARY_DIR}/fuzz/${A_NAME}.args.cmake)
  file(WRITE ${args}
       "set(NAME \"${A_NAME}\")\nset(FUZZER \"${bin}\")\nset(SEEDS \"${A_SEEDS}\")\n"
       "set(FUZZ_ENV \"${A_ENV}\")\nset(FUZZ_ARGS \"${A_ARGS}\")\n")
  add_test(NAME fuzz/${A_NAME}
           COMMAND ${CMAKE_COMMAND} -DARGS=${args} -DWORK=${PROJECT_BINARY_DIR}/fuzz/work/${A_NAME}
                   -P ${PROJECT_SOURCE_DIR}/cmake/run_fuzz.cmake)
  set_tests_properties(fuzz/${A_NAME} PROPERTIES LABELS "fuzz" TIMEOUT 120)
endfunction()

# khospec_add_fuzz_replay(NAME <name> DIR <testdata dir>): ctest fuzz/<name>/replay
# runs the fuzzer on every file of DIR (the inputs that once crashed it).
function(khospec_add_fuzz_replay)
  cmake_parse_arguments(A "" "NAME;DIR" "" ${ARGN})
  khospec_fuzz_enabled(on)
  if(NOT on)
    return()
  endif()
  file(GLOB files CONFIGURE_DEPENDS ${A_DIR}/*)
  if(NOT files)
    return()
  endif()
  add_test(NAME fuzz/${A_NAME}/replay
           COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
                   ${PROJECT_BINARY_DIR}/fuzz/fuzz_${A_NAME} -runs=1 ${files})
  set_tests_properties(fuzz/${A_NAME}/replay PROPERTIES LABELS "fuzz" TIMEOUT 60)
endfunction()
