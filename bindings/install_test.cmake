# `cmake --install` into PREFIX, then import khospec from there (not the build tree).
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD} --prefix ${PREFIX} RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()
set(ENV{PYTHONPATH} ${PREFIX}/${SUBDIR})
execute_process(COMMAND ${PYTHON} -c
  "import khospec, os; assert khospec.__file__.startswith(os.environ['PYTHONPATH']), khospec.__file__; print(khospec.__version__, len(khospec.rules()))"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "import from the installed package failed: ${out}${err}")
endif()
message(STATUS "installed khospec ${out}")
