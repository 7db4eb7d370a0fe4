# SPDX-License-Identifier: MIT
# OIU_SANITIZE=ON: AddressSanitizer (with LeakSanitizer) and
# UndefinedBehaviorSanitizer on the host code: the host runtime, the host
# side of the test programs, the tools, format_diff (the formatter built for
# the host) and the fuzzer. Not on host-offload device code: clang 22 links
# the device image (a shared object) with the static ASan preinit object,
# which the linker refuses in a DSO; the formatter, the device library's
# largest part, is covered by format_diff and the fuzzer instead.
# UBSan errors are fatal. Tests get ASAN/UBSAN/LSAN_OPTIONS, with
# tests/lsan.supp (leaks of the LLVM runtime itself, none of ours).
option(OIU_SANITIZE "Build with ASan, LSan and UBSan (host offload target)" OFF)
if(OIU_SANITIZE)
  if(NOT OIU_OFFLOAD_ARCHS STREQUAL "host")
    message(FATAL_ERROR "OIU_SANITIZE=ON needs OIU_OFFLOAD_ARCHS=host (GPU code has no sanitizer runtime here)")
  endif()
  set(_san -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  foreach(f IN LISTS _san)
    add_compile_options("SHELL:-Xarch_host ${f}")
  endforeach()
  # Linked as the shared runtime (ASan + UBSan), named first: with
  # -fsanitize at the link, clang-linker-wrapper hands the static runtime
  # archives to the device image link too, which fails.
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-runtime-dir
                  OUTPUT_VARIABLE _rt OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(OIU_ASAN_RT ${_rt}/libclang_rt.asan-x86_64.so)
  if(NOT EXISTS ${OIU_ASAN_RT})
    message(FATAL_ERROR "OIU_SANITIZE: ${OIU_ASAN_RT} missing (libclang-rt-22-dev)")
  endif()
  string(APPEND CMAKE_EXE_LINKER_FLAGS " -Wl,--no-as-needed ${OIU_ASAN_RT} -Wl,-rpath,${_rt}")
  string(APPEND CMAKE_SHARED_LINKER_FLAGS " ${OIU_ASAN_RT} -Wl,-rpath,${_rt}")
  set(OIU_SANITIZE_ENV
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98
      LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/lsan.supp:print_suppressions=0)
  message(STATUS "omp-iouring: ASan/LSan/UBSan build")
endif()

# Called at the end of each directory that adds tests: in the sanitizer
# build they run with the sanitizer settings (set_tests_properties reaches
# only the calling directory's tests before CMake 3.28).
function(oiu_sanitize_tests)
  get_property(dir_tests DIRECTORY PROPERTY TESTS)
  if(OIU_SANITIZE AND dir_tests)
    set_property(TEST ${dir_tests} APPEND PROPERTY ENVIRONMENT ${OIU_SANITIZE_ENV})
  endif()
endfunction()
