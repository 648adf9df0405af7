# One libFuzzer run of a target khospec_add_fuzzer() added (cmake/KhospecFuzz.cmake).
# Inputs: -DARGS=<build>/fuzz/NAME.args.cmake -DWORK=<dir>
#         [-DRUNS=N] [-DMAX_TIME=seconds, 0 = none] [-DKEEP=ON: keep WORK's corpus]
# The ctest case (fuzz/NAME) is the short run: a fresh work directory, a fixed
# seed, 200000 inputs or 15 s. scripts/fuzz passes RUNS, MAX_TIME=0 and KEEP.
# Seeds: the SEEDS globs (files under 1 MiB) are copied into WORK/seeds, and
# the fuzzer's LLVMFuzzerInitialize may add its own there ($KHOSPEC_FUZZ_SEED_OUT).
# Prints "NAME: N inputs in S s"; a crash fails with the input's path. libFuzzer's
# progress goes to WORK/fuzz.log (`tail -f` it during a long run).
include(${ARGS})
if(NOT DEFINED RUNS)
  set(RUNS 200000)
endif()
if(NOT DEFINED MAX_TIME)
  set(MAX_TIME 15)
endif()
if(NOT KEEP)
  file(REMOVE_RECURSE ${WORK})
endif()
file(REMOVE_RECURSE ${WORK}/seeds ${WORK}/crash)
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/seeds ${WORK}/crash)
set(n 0)
foreach(g IN LISTS SEEDS)
  file(GLOB_RECURSE files ${g})
  foreach(f IN LISTS files)
    file(SIZE ${f} sz)
    if(sz LESS 1048576)
      math(EXPR n "${n} + 1")
      get_filename_component(base ${f} NAME)
      file(COPY_FILE ${f} ${WORK}/seeds/${n}-${base})
    endif()
  endforeach()
endforeach()
string(TIMESTAMP t0 "%s")
execute_process(COMMAND ${CMAKE_COMMAND} -E env KHOSPEC_FUZZ_SEED_OUT=${WORK}/seeds ASAN_OPTIONS=detect_leaks=1
                        UBSAN_OPTIONS=print_stacktrace=1 ${FUZZ_ENV}
                        ${FUZZER} -runs=${RUNS} -max_total_time=${MAX_TIME} -timeout=10 -seed=1
                        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=${WORK}/crash/ ${FUZZ_ARGS}
                        ${WORK}/corpus ${WORK}/seeds
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_FILE ${WORK}/fuzz.log)
string(TIMESTAMP t1 "%s")
math(EXPR secs "${t1} - ${t0}")
file(READ ${WORK}/fuzz.log err)
string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" runs "${err}")
string(REGEX REPLACE ".*: *" "" runs "${runs}")
if(NOT rc EQUAL 0)
  file(GLOB crash ${WORK}/crash/*)
  # A long run's log is megabytes of progress lines: the report is at its end.
  string(LENGTH "${err}" n)
  if(n GREATER 8000)
    math(EXPR from "${n} - 8000")
    string(SUBSTRING "${err}" ${from} -1 err)
  endif()
  message(FATAL_ERROR "fuzz_${NAME} failed (exit ${rc}); input: ${crash}\nthe end of ${WORK}/fuzz.log:\n${err}")
endif()
message(STATUS "${NAME}: ${runs} inputs in ${secs} s")
