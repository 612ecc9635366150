# The fuzz harnesses of properties/fuzz/ (docs/fuzzing.md), one LLVMFuzzerTestOneInput per
# *_fuzz.cpp file, each calling the function the command line calls on outside input.
#
# LOCKSTEP_FUZZ=ON (clang only; scripts/fuzz makes build-fuzz/ with clang-14): every
# object is compiled for libFuzzer's coverage and under ASan + UBSan, and each harness is a
# libFuzzer program, NAME_fuzz. Off (any compiler): each harness is linked with a small
# driver that feeds it every file of its committed corpus, a ctest fuzz_regression_NAME.
option(LOCKSTEP_FUZZ "build the libFuzzer harnesses (clang) instead of the corpus regressions" OFF)

# Before any target: the sanitizers and the coverage must cover the code under test.
macro(lockstep_fuzz_flags)
  if(LOCKSTEP_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      message(FATAL_ERROR "LOCKSTEP_FUZZ needs clang (libFuzzer), not ${CMAKE_CXX_COMPILER_ID}: "
                          "scripts/fuzz configures build-fuzz/ with clang++-14")
    endif()
    # -fno-sanitize=function: clang 14 with the coverage and UBSan's function check cannot
    # assemble the coroutines' split functions ("Cannot represent a difference across
    # sections"); every other UBSan check stays, and stops the run at its first report.
    add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function
                        -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
  endif()
endmacro()

# After the libraries: the harnesses, as libFuzzer programs or as corpus regressions.
function(lockstep_fuzz_targets)
  file(GLOB FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/properties/fuzz/*_fuzz.cpp)
  foreach(src ${FUZZ_SOURCES})
    get_filename_component(file ${src} NAME_WE)
    string(REGEX REPLACE "_fuzz$" "" harness ${file})
    if(LOCKSTEP_FUZZ)
      add_executable(${file} ${src})
      target_link_options(${file} PRIVATE -fsanitize=fuzzer)
      target_link_libraries(${file} PRIVATE lockstep_cli)
    else()
      add_executable(fuzz_regression_${harness} ${src}
                                               ${CMAKE_SOURCE_DIR}/properties/fuzz/corpus_driver.cpp)
      target_link_libraries(fuzz_regression_${harness} PRIVATE lockstep_cli)
      add_test(NAME fuzz_regression_${harness}
               COMMAND fuzz_regression_${harness} ${CMAKE_SOURCE_DIR}/properties/fuzz/corpus/${harness})
      set_tests_properties(fuzz_regression_${harness} PROPERTIES LABELS unit TIMEOUT 120)
    endif()
  endforeach()
endfunction()
