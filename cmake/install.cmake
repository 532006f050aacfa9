# What `make install` and the Debian package install besides the programs.

# tinyhsmd-qemu only with the firmware it runs (make firmware), which goes
# next to the data files, where an installed tinyhsmd-qemu looks for it.
if(THSM_FIRMWARE AND EXISTS "${THSM_FIRMWARE}")
  install(TARGETS tinyhsmd-qemu RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${THSM_FIRMWARE} DESTINATION ${CMAKE_INSTALL_DATADIR}/tinyhsm)
endif()
# The PKCS#11 module, where the build has it.
if(TARGET tinyhsm-pkcs11)
  install(TARGETS tinyhsm-pkcs11 LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkcs11)
endif()
install(FILES docs/DECISIONS.md docs/PERFORMANCE.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Man pages: docs/man/NAME.SECTION.scd, made with scdoc when it is there.
find_program(SCDOC scdoc)
if(SCDOC)
  file(GLOB THSM_MAN_SRC CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/man/*.scd)
  set(THSM_MAN_PAGES)
  foreach(src ${THSM_MAN_SRC})
    get_filename_component(page ${src} NAME_WLE) # tinyhsm.1
    string(REGEX MATCH "[0-9]$" section ${page})
    set(out ${CMAKE_BINARY_DIR}/man/${page})
    add_custom_command(OUTPUT ${out} DEPENDS ${src}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND sh -c "\"$0\" < \"$1\" > \"$2\"" ${SCDOC} ${src} ${out}
      VERBATIM)
    list(APPEND THSM_MAN_PAGES ${out})
    install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(man ALL DEPENDS ${THSM_MAN_PAGES})
else()
  message(STATUS "scdoc not found: no man pages")
endif()

install(FILES dist/bash-completion/tinyhsm
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

# systemd user units (the per-user socket-activated daemon).
foreach(unit tinyhsmd.socket tinyhsmd.service)
  configure_file(dist/systemd/${unit}.in ${CMAKE_BINARY_DIR}/systemd/${unit} @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/systemd/${unit}
          DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/systemd/user)
endforeach()

# systemd system units (one daemon for the group tinyhsm) and its users.
foreach(unit tinyhsmd.socket tinyhsmd.service)
  configure_file(dist/systemd/system/${unit}.in
                 ${CMAKE_BINARY_DIR}/systemd/system/${unit} @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/systemd/system/${unit}
          DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endforeach()
install(FILES dist/sysusers.d/tinyhsm.conf
        DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d)

# For ST's unmodified scripts: PYTHONPATH=<this directory> (README).
install(FILES dist/original-scripts/sitecustomize.py
        DESTINATION ${CMAKE_INSTALL_DATADIR}/tinyhsm/original-scripts)

# make uninstall: removes what the last install listed in install_manifest.txt.
add_custom_target(uninstall
  COMMAND ${CMAKE_COMMAND} -P ${CMAKE_SOURCE_DIR}/cmake/uninstall.cmake
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
