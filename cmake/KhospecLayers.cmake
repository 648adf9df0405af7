# layers/arrows: every #include "..." and every link between khospec targets
# must follow an arrow of layers.txt. The links are read from the build
# system itself: at generate time every target's source folder and
# LINK_LIBRARIES go to layers_links.txt, which cmake/check_layers.py reads.
function(_khospec_collect_targets dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    _khospec_collect_targets(${sub} sub_targets)
    list(APPEND targets ${sub_targets})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

function(khospec_check_layers)
  _khospec_collect_targets(${PROJECT_SOURCE_DIR} targets)
  set(lines "")
  foreach(t IN LISTS targets)
    get_target_property(type ${t} TYPE)
    if(type STREQUAL "UTILITY" OR type STREQUAL "INTERFACE_LIBRARY")
      continue()
    endif()
    get_target_property(sdir ${t} SOURCE_DIR)
    get_target_property(libs ${t} LINK_LIBRARIES)
    if(NOT libs)
      set(libs "")
    endif()
    string(APPEND lines "${t}\t${sdir}\t${libs}\n")
  endforeach()
  file(WRITE ${PROJECT_BINARY_DIR}/layers_links.txt "${lines}")
  add_test(NAME layers/arrows
           COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/cmake/check_layers.py ${PROJECT_SOURCE_DIR}
                   ${PROJECT_BINARY_DIR}/layers_links.txt)
  set_tests_properties(layers/arrows PROPERTIES LABELS "unit" TIMEOUT 60)
  add_test(NAME docs/architecture_layers_are_current
           COMMAND ${CMAKE_COMMAND} -DCHECK=${PROJECT_SOURCE_DIR}/cmake/check_layers.py -DSRC=${PROJECT_SOURCE_DIR}
                   -DDOC=${PROJECT_SOURCE_DIR}/docs/architecture.md
                   -P ${PROJECT_SOURCE_DIR}/cmake/check_layers_doc.cmake)
  set_tests_properties(docs/architecture_layers_are_current PROPERTIES LABELS "unit" TIMEOUT 60)
endfunction()
