# docs/architecture.md carries the arrows of layers.txt between the markers
# <!-- layers:begin --> and <!-- layers:end -->, as `check_layers.py --markdown`
# prints them; this fails when the two differ.
execute_process(COMMAND /usr/bin/python3 ${CHECK} ${SRC} --markdown OUTPUT_VARIABLE want RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check_layers.py --markdown failed (${rc})")
endif()
file(READ ${DOC} doc)
string(FIND "${doc}" "<!-- layers:begin -->\n" b)
string(FIND "${doc}" "<!-- layers:end -->" e)
if(b LESS 0 OR e LESS 0)
  message(FATAL_ERROR "${DOC} has no <!-- layers:begin --> ... <!-- layers:end --> section")
endif()
math(EXPR b "${b} + 22")
math(EXPR n "${e} - ${b}")
string(SUBSTRING "${doc}" ${b} ${n} have)
if(NOT have STREQUAL want)
  message(FATAL_ERROR "docs/architecture.md's layer tables differ from layers.txt; replace the section with:\n${want}")
endif()
