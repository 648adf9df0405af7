# The committed DOC must equal `khospec ARGS` (written to OUT); ARGS defaults
# to `rules --markdown` (docs/rules.md).
if(NOT DEFINED ARGS)
  set(ARGS rules --markdown)
endif()
execute_process(COMMAND ${KHOSPEC} ${ARGS} OUTPUT_FILE ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "khospec ${ARGS} failed (exit ${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT} ${DOC} RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  string(REPLACE ";" " " shown "${ARGS}")
  message(FATAL_ERROR "${DOC} is stale: regenerate it with `khospec ${shown} > ${DOC}` (generated copy: ${OUT})")
endif()
