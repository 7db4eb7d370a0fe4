# SPDX-License-Identifier: MIT
# An OpenMP offload program for every configured arch.
function(oiu_offload_program name)
  add_executable(${name} ${ARGN})
  target_compile_options(${name} PRIVATE ${OIU_WARN} ${OIU_OFFLOAD_FLAGS})
  target_link_options(${name} PRIVATE ${OIU_OFFLOAD_FLAGS})
  set_target_properties(${name} PROPERTIES C_EXTENSIONS ON)
endfunction()

# The same, linked with the device and host libraries.
function(oiu_omp_program name)
  oiu_offload_program(${name} ${ARGN})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/common)
  target_link_libraries(${name} PRIVATE ompiouring-device ompiouring)
  # tests/offline checks the AMDGPU images of every such program.
  set_property(GLOBAL APPEND PROPERTY OIU_OMP_PROGRAMS ${name})
  if(OIU_OFFLOAD_ARCHS STREQUAL "host")
    target_compile_definitions(${name} PRIVATE TEST_LONG_DOUBLE=1)
  endif()
endfunction()
