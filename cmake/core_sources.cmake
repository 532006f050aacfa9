# THSM_CORE_SRC: the absolute paths of cmake/core_sources.txt, the device
# core as the firmware compiles it (shared by the host and fw projects).
get_filename_component(THSM_CORE_ROOT ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
file(STRINGS ${CMAKE_CURRENT_LIST_DIR}/core_sources.txt THSM_CORE_LINES
     REGEX "^[^#]")
set(THSM_CORE_SRC)
foreach(line ${THSM_CORE_LINES})
  file(GLOB found CONFIGURE_DEPENDS ${THSM_CORE_ROOT}/${line})
  if(NOT found)
    message(FATAL_ERROR "cmake/core_sources.txt: ${line} matches no file")
  endif()
  list(APPEND THSM_CORE_SRC ${found})
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${CMAKE_CURRENT_LIST_DIR}/core_sources.txt)
