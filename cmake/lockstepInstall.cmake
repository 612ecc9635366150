# What `cmake --install` puts where (and so what the Debian package holds):
#   bin/lockstep
#   include/lockstep/lockstep.h            the umbrella header users include
#   include/lockstep/{core,sim,real,cli}/  the project's own headers, as in the tree
#   lib/liblockstep_*.a                    the static libraries
#   lib/cmake/lockstep/                    the CMake package (lockstep::lockstep)
#   share/lockstep/plot_*.py, zk           the plot scripts, a throwaway ZooKeeper for live
#   share/doc/lockstep/                    README, docs, scenario examples, examples/
# The headers keep their in-tree paths under include/lockstep, and include/lockstep is an
# include directory of the exported targets, so "core/lock.h" resolves installed as it
# does in the tree: no header is moved or rewritten.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(LOCKSTEP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/lockstep)

foreach(part core sim real cli)
  set_target_properties(lockstep_${part} PROPERTIES EXPORT_NAME ${part})
  target_include_directories(
    lockstep_${part}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}> $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/lockstep>)
endforeach()
target_compile_features(lockstep_core PUBLIC cxx_std_20)

# lockstep::lockstep, the one target a user links (the executable holds the name
# `lockstep` in this build, so the library target is lockstep_all here).
add_library(lockstep_all INTERFACE)
set_target_properties(lockstep_all PROPERTIES EXPORT_NAME lockstep)
target_link_libraries(lockstep_all INTERFACE lockstep_cli)

install(TARGETS lockstep RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS lockstep_core lockstep_sim lockstep_real lockstep_cli lockstep_all
        EXPORT lockstepTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
# install/strip (the Debian package) strips the command but leaves static libraries
# alone; their debug info is most of their size (about 200 MB), so drop it, keeping the
# symbols a user's program links against.
install(CODE "
  if(CMAKE_INSTALL_DO_STRIP)
    foreach(part core sim real cli)
      execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug
        \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/liblockstep_\${part}.a\"
        COMMAND_ERROR_IS_FATAL ANY)
    endforeach()
  endif()")
install(FILES ${PROJECT_SOURCE_DIR}/include/lockstep/lockstep.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lockstep)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core ${PROJECT_SOURCE_DIR}/sim ${PROJECT_SOURCE_DIR}/real
                  ${PROJECT_SOURCE_DIR}/cli
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lockstep
        FILES_MATCHING PATTERN "*.h" PATTERN "*.def")
install(EXPORT lockstepTargets NAMESPACE lockstep:: DESTINATION ${LOCKSTEP_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/lockstepConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/lockstepConfig.cmake
                              INSTALL_DESTINATION ${LOCKSTEP_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/lockstepConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/lockstepConfig.cmake
              ${PROJECT_BINARY_DIR}/lockstepConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/lockstepZooKeeper.cmake
        DESTINATION ${LOCKSTEP_CMAKE_DIR})

install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/plot_timeline.py
                 ${PROJECT_SOURCE_DIR}/scripts/plot_bench.py ${PROJECT_SOURCE_DIR}/scripts/zk
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lockstep)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        FILES_MATCHING PATTERN "*.md" PATTERN "*.json")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples DESTINATION ${CMAKE_INSTALL_DOCDIR})
