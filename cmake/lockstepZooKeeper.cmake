# The ZooKeeper C client as the imported target lockstep::zookeeper: the headers of
# Debian's libzookeeper-mt-dev and the single-threaded library of libzookeeper-st2
# (libzookeeper_st.so.2; its own -dev package would conflict with the headers'). The two
# libraries share one header and API; the single-threaded one is driven by our EventLoop
# (real/zk_store.h). Neither ships a CMake or pkg-config file, so they are found by file.
# The build and the installed package (lockstepConfig.cmake) both read this file, so a
# user's project finds them the same way lockstep's own build did.
if(NOT TARGET lockstep::zookeeper)
  find_path(ZOOKEEPER_INCLUDE_DIR zookeeper/zookeeper.h)
  find_library(ZOOKEEPER_ST_LIBRARY NAMES zookeeper_st libzookeeper_st.so.2)
  if(ZOOKEEPER_INCLUDE_DIR AND ZOOKEEPER_ST_LIBRARY)
    add_library(lockstep::zookeeper UNKNOWN IMPORTED)
    # No THREADED: the asynchronous API only, completions inside zookeeper_process.
    set_target_properties(
      lockstep::zookeeper
      PROPERTIES IMPORTED_LOCATION "${ZOOKEEPER_ST_LIBRARY}"
                 INTERFACE_INCLUDE_DIRECTORIES "${ZOOKEEPER_INCLUDE_DIR}")
  endif()
endif()
