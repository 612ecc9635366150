# The ZooKeeper C client (Debian: libzookeeper-mt-dev) as the imported target
# lockstep::zookeeper. It ships no CMake or pkg-config file, so it is found by its header
# and library. The build and the installed package (lockstepConfig.cmake) both read this
# file, so a user's project finds it the same way lockstep's own build did.
if(NOT TARGET lockstep::zookeeper)
  find_path(ZOOKEEPER_INCLUDE_DIR zookeeper/zookeeper.h)
  find_library(ZOOKEEPER_MT_LIBRARY zookeeper_mt)
  if(ZOOKEEPER_INCLUDE_DIR AND ZOOKEEPER_MT_LIBRARY)
    add_library(lockstep::zookeeper UNKNOWN IMPORTED)
    # THREADED: the multi-threaded client's API (zoo_a* completions on its own thread).
    set_target_properties(
      lockstep::zookeeper
      PROPERTIES IMPORTED_LOCATION "${ZOOKEEPER_MT_LIBRARY}"
                 INTERFACE_INCLUDE_DIRECTORIES "${ZOOKEEPER_INCLUDE_DIR}"
                 INTERFACE_COMPILE_DEFINITIONS THREADED)
  endif()
endif()
