# SPDX-License-Identifier: MIT
# Label "offline": runs in CI without a GPU (scripts/test.sh). The linked
# AMDGPU image of every program is inspected by check_image.py: each stdio
# function its device code calls must be the device library's, not LLVM
# DeviceRTL's AMDGPU stub (which prints nothing). Two programs built to use
# the stubs show that the check fails when it should.
# NVIDIA: the PTX of ring.c claims slots per lane and orders their give-back
# (check_ptx.sh says why both matter).
foreach(arch IN LISTS OIU_OFFLOAD_ARCHS)
  if(arch MATCHES "^sm_")
    add_test(NAME ptx_ring_${arch}
             COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/offline/check_ptx.sh ${CMAKE_C_COMPILER} ${arch}
                     ${OIU_CUDA_PATH} ${PROJECT_SOURCE_DIR})
    set_tests_properties(ptx_ring_${arch} PROPERTIES LABELS offline)
  endif()
endforeach()
set(_amd "")
foreach(arch IN LISTS OIU_OFFLOAD_ARCHS)
  if(arch MATCHES "^gfx")
    list(APPEND _amd ${arch})
  endif()
endforeach()
if(NOT _amd)
  return()
endif()
# The check reads the images' DWARF.
string(TOUPPER "CMAKE_C_FLAGS_${CMAKE_BUILD_TYPE}" _cfg)
if(NOT "${CMAKE_C_FLAGS} ${${_cfg}}" MATCHES "(^| )-g")
  message(STATUS "omp-iouring: no -g in the ${CMAKE_BUILD_TYPE} flags: the offline image checks are not added")
  return()
endif()
find_program(OIU_PYTHON3 python3 REQUIRED)
get_filename_component(_tools "${CMAKE_C_COMPILER}" DIRECTORY)
string(REPLACE ";" "," _amd "${_amd}")
set(_check ${OIU_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/offline/check_image.py --tools ${_tools}
    --ours ${PROJECT_SOURCE_DIR}/device-rtl --archs ${_amd})

# Every stdio call the device library replaces, in one target region.
oiu_omp_program(io_probe offline/io_probe.c)

# vprintf without omp_iouring/device_names.h: the archive is linked by file,
# so its interface flags (that -include among them) do not apply.
oiu_offload_program(stub_vprintf offline/stub_probe.c)
target_compile_options(stub_vprintf PRIVATE -fno-inline)
target_link_libraries(stub_vprintf PRIVATE $<TARGET_FILE:ompiouring-device> ompiouring)
add_dependencies(stub_vprintf ompiouring-device)
# No device library at all: DeviceRTL's own printf, as upstream builds it.
oiu_offload_program(stub_printf offline/stub_probe.c offline/devicertl_printf.c)
target_compile_options(stub_printf PRIVATE -fno-inline)

# One test per program linked with the device library (oiu_omp_program),
# added once every directory has made its programs (examples/ and bench/
# come after tests/): at the end of the top-level directory.
set_property(GLOBAL PROPERTY OIU_IMAGE_CHECK ${_check})
function(oiu_image_tests)
  get_property(check GLOBAL PROPERTY OIU_IMAGE_CHECK)
  get_property(programs GLOBAL PROPERTY OIU_OMP_PROGRAMS)
  foreach(prog IN LISTS programs)
    add_test(NAME image_io_${prog}
             COMMAND ${check} $<TARGET_FILE:${prog}> $<TARGET_OBJECTS:${prog}> COMMAND_EXPAND_LISTS)
    set_tests_properties(image_io_${prog} PROPERTIES LABELS offline SKIP_RETURN_CODE 77)
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL oiu_image_tests)

add_test(NAME image_io_catches_stub_vprintf
         COMMAND ${_check} --expect-stub vprintf $<TARGET_FILE:stub_vprintf>
                 $<TARGET_OBJECTS:stub_vprintf> COMMAND_EXPAND_LISTS)
add_test(NAME image_io_catches_stub_printf
         COMMAND ${_check} --expect-stub printf,vprintf $<TARGET_FILE:stub_printf>
                 $<TARGET_OBJECTS:stub_printf> COMMAND_EXPAND_LISTS)
set_tests_properties(image_io_catches_stub_vprintf image_io_catches_stub_printf
                     PROPERTIES LABELS offline SKIP_RETURN_CODE 77)
