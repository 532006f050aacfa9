# The project's one version (tinyhsm, tinyhsmd, the devices' AT+VERSION?,
# the Debian package): the first line of the top-level VERSION file.
get_filename_component(_thsm_root ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
file(STRINGS ${_thsm_root}/VERSION THSM_VERSION LIMIT_COUNT 1)
if(NOT THSM_VERSION MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+$")
  message(FATAL_ERROR "VERSION must hold X.Y.Z, not '${THSM_VERSION}'")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_thsm_root}/VERSION)
