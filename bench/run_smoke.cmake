# Runs khospec_bench in smoke mode (KHOSPEC_BENCH_SMOKE=1: smallest size, one
# iteration each) and fails on a nonzero exit or any "error_occurred" entry.
execute_process(COMMAND ${BENCH} --benchmark_format=console --benchmark_out_format=json
                        --benchmark_out=${OUT}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "khospec_bench exited ${rc}")
endif()
file(READ ${OUT} json)
string(FIND "${json}" "\"error_occurred\": true" err)
if(NOT err EQUAL -1)
  message(FATAL_ERROR "a benchmark reported an error (see ${OUT})")
endif()
string(FIND "${json}" "\"benchmarks\"" has)
if(has EQUAL -1)
  message(FATAL_ERROR "no benchmark output in ${OUT}")
endif()
message(STATUS "khospec_bench smoke: every benchmark ran once")
