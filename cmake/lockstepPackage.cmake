# The Debian package (scripts/package runs cpack): lockstep_<version>_amd64.deb with what
# cmake --install puts in place (cmake/lockstepInstall.cmake), under /usr.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lockstep)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "lockstep maintainers <lockstep@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "deterministic simulation and testing of distributed lock algorithms")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "A lock algorithm is written once, as C++20 coroutines against a ZooKeeper-shaped store. "
       "A deterministic simulator runs it under injected faults, checkers judge the history, a "
       "property search shrinks each failure to a scenario file that replays it, and the same "
       "code runs on a live ZooKeeper. Holds the lockstep command, the headers, static "
       "libraries and CMake package (find_package(lockstep)), the plot scripts and the docs.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # lockstep_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
# The run-time libraries of bin/lockstep, from dpkg-shlibdeps (libzookeeper-st2, libc,
# libstdc++, tcmalloc when it was linked) ...
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# ... and what find_package(lockstep) finds for a user's program (lockstepConfig.cmake).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libzookeeper-mt-dev, libzookeeper-st2, librapidcheck-dev, nlohmann-json3-dev")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "cmake, g++ (>= 4:12), python3-matplotlib, zookeeper")
include(CPack)
