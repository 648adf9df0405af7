# The committed DOC must equal `khospec rules --markdown` (written to OUT).
execute_process(COMMAND ${KHOSPEC} rules --markdown OUTPUT_FILE ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "khospec rules --markdown failed (exit ${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT} ${DOC} RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  message(FATAL_ERROR "${DOC} is stale: regenerate it with `khospec rules --markdown > docs/rules.md` (generated copy: ${OUT})")
endif()
