# The committed DOC must equal the output of TOOL (spec_trace), written to OUT.
execute_process(COMMAND ${TOOL} OUTPUT_FILE ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "spec_trace failed (exit ${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT} ${DOC} RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  message(FATAL_ERROR "${DOC} is stale: regenerate it with `spec_trace > docs/spec-trace.md` or `khospec prove --trace > docs/spec-trace.md` (generated copy: ${OUT})")
endif()
