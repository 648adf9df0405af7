# The short fuzz run: fresh seed and output directories each time (so the run
# stays bounded), seeds packed by the fuzzer's LLVMFuzzerInitialize from the
# compiled corpus and the real captures.
# Inputs: -DFUZZER=... -DCORPUS=<build>/corpus -DDUMPS=... -DWORK=<dir>
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/new ${WORK}/seeds)
execute_process(COMMAND ${CMAKE_COMMAND} -E env KHOSPEC_FUZZ_SEED_SRC=${CORPUS} KHOSPEC_FUZZ_DUMPS=${DUMPS}
                        KHOSPEC_FUZZ_SEED_OUT=${WORK}/seeds ASAN_OPTIONS=detect_leaks=1
                        ${FUZZER} -runs=20000 -max_total_time=20 -timeout=10 -seed=1 -print_final_stats=1
                        ${WORK}/new ${WORK}/seeds
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" runs "${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzz_validate failed (exit ${rc}); crash input under ${WORK}\n${err}")
endif()
message(STATUS "ok: ${runs}")
