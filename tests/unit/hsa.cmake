# SPDX-License-Identifier: MIT
# The AMD memory backend (plugin/mem_hsa.c) without an AMD GPU: pool choice,
# the installed HSA runtime (no agents here: one message, no region), and a
# stand-in runtime that fails each call in turn (tests/unit/hsa_backend.c).
set(_srcs config.c mem_host.c mem_cuda.c mem_hsa.c hsa_load.c hsa_place.c)
list(TRANSFORM _srcs PREPEND ${PROJECT_SOURCE_DIR}/plugin/)
add_executable(hsa_backend unit/hsa_backend.c ${_srcs})
target_include_directories(hsa_backend PRIVATE ${PROJECT_SOURCE_DIR}/plugin ${PROJECT_SOURCE_DIR}/include)
target_compile_definitions(hsa_backend PRIVATE _GNU_SOURCE)
target_compile_options(hsa_backend PRIVATE ${OIU_WARN})
target_link_libraries(hsa_backend PRIVATE ${CMAKE_DL_LIBS})

# Stand-ins named like the runtime (libhsa-runtime64.so.1), each in its own
# directory for LD_LIBRARY_PATH; "old" lacks hsa_amd_memory_lock_to_pool.
foreach(kind fake old)
  add_library(hsa_${kind} SHARED unit/fake_hsa.c)
  set_target_properties(hsa_${kind} PROPERTIES OUTPUT_NAME hsa-runtime64 SOVERSION 1
    C_VISIBILITY_PRESET hidden LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/hsa_${kind})
  # ROCr is not built with -fsanitize=function, so calls through our own
  # declarations of its entry points are never type-checked; nor are the stand-in's.
  target_compile_options(hsa_${kind} PRIVATE ${OIU_WARN} -fno-sanitize=function)
  add_dependencies(hsa_backend hsa_${kind})
endforeach()
target_compile_definitions(hsa_old PRIVATE FAKE_HSA_OLD)

add_test(NAME hsa_pools COMMAND hsa_backend pools)
add_test(NAME hsa_real_runtime COMMAND hsa_backend real)
foreach(kind fake old)
  add_test(NAME hsa_${kind}_runtime
           COMMAND env LD_LIBRARY_PATH=${CMAKE_CURRENT_BINARY_DIR}/hsa_${kind} $<TARGET_FILE:hsa_backend> ${kind})
endforeach()
set_tests_properties(hsa_real_runtime PROPERTIES SKIP_RETURN_CODE 77)

# Our declarations of the HSA ABI against the ROCm headers, where installed.
find_path(OIU_HSA_INCLUDE hsa/hsa_ext_amd.h)
if(OIU_HSA_INCLUDE)
  add_executable(hsa_abi unit/hsa_abi.c)
  target_include_directories(hsa_abi PRIVATE ${PROJECT_SOURCE_DIR}/plugin ${PROJECT_SOURCE_DIR}/include)
  target_compile_options(hsa_abi PRIVATE ${OIU_WARN})
  add_test(NAME hsa_abi COMMAND hsa_abi)
else()
  message(STATUS "no <hsa/hsa_ext_amd.h>: the hsa_abi check is not built (package libhsa-runtime-dev)")
endif()
