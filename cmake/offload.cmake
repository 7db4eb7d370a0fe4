# SPDX-License-Identifier: MIT
# Turns OIU_OFFLOAD_ARCHS into the clang flags that compile and link OpenMP
# offload code for every arch (clang takes the same set at both steps):
#   OIU_OFFLOAD_FLAGS
set(_targets "")
set(_flags "")
set(_amd_archs "")
foreach(arch IN LISTS OIU_OFFLOAD_ARCHS)
  if(arch STREQUAL "host")
    list(APPEND _targets x86_64-pc-linux-gnu)
  elseif(arch MATCHES "^sm_")
    if(NOT OIU_NVPTX_BC)
      message(FATAL_ERROR "${arch} needs OIU_NVPTX_BC (scripts/setup-debian.sh prints it)")
    endif()
    get_filename_component(_rtl "${OIU_NVPTX_BC}" DIRECTORY)
    list(APPEND _targets nvptx64-nvidia-cuda)
    # The device link wants -lompdevice: the DeviceRTL build puts it in <rtl>/<triple>/.
    list(APPEND _flags -Xopenmp-target=nvptx64-nvidia-cuda -march=${arch}
         --libomptarget-nvptx-bc-path=${OIU_NVPTX_BC} --cuda-path=${OIU_CUDA_PATH}
         -Xoffload-linker-nvptx64-nvidia-cuda -L${_rtl}/nvptx64-nvidia-cuda)
  elseif(arch MATCHES "^gfx")
    list(APPEND _amd_archs ${arch})
  else()
    message(FATAL_ERROR "unknown offload arch '${arch}' in OIU_OFFLOAD_ARCHS")
  endif()
endforeach()
# AMD: clang 22 takes one --offload-arch list per triple (a second -march
# replaces the first). Flags after -Xopenmp-target apply to every AMD arch;
# -Xarch_<arch> to one.
if(_amd_archs)
  if(NOT OIU_AMDGPU_BC)
    message(FATAL_ERROR "${_amd_archs} need OIU_AMDGPU_BC (scripts/setup-debian.sh prints it)")
  endif()
  get_filename_component(_rtl "${OIU_AMDGPU_BC}" DIRECTORY)
  list(APPEND _targets amdgcn-amd-amdhsa)
  string(REPLACE ";" "," _list "${_amd_archs}")
  # Debian's rocm-device-libs 5.2.3 lacks code object ABI 6: use 5. clang 22
  # takes AMDGPU's DeviceRTL only from -lompdevice (no bitcode path).
  # SHELL: keeps each option pair whole: CMake drops repeated options, and a
  # lone -Xopenmp-target or -Xarch_ would take the wrong argument.
  list(APPEND _flags "SHELL:-Xopenmp-target=amdgcn-amd-amdhsa --offload-arch=${_list}"
       "SHELL:-Xopenmp-target=amdgcn-amd-amdhsa -mcode-object-version=5"
       --rocm-device-lib-path=${OIU_ROCM_DEVICE_LIBS}
       -Xoffload-linker-amdgcn-amd-amdhsa -L${_rtl}/amdgcn-amd-amdhsa)
  # An arch the device libraries do not know (Debian's 5.2.3 stops at gfx940,
  # so gfx942) is built without them: neither the device library nor the
  # tests call ocml/ockl, and the image check (tests/offline) would report
  # anything left undefined.
  foreach(arch IN LISTS _amd_archs)
    string(REGEX REPLACE "^gfx([0-9a-f]+).*" "\\1" _isa "${arch}")
    if(NOT EXISTS "${OIU_ROCM_DEVICE_LIBS}/oclc_isa_version_${_isa}.bc")
      message(STATUS "omp-iouring: no oclc_isa_version_${_isa}.bc in ${OIU_ROCM_DEVICE_LIBS}: ${arch} is built with -nogpulib")
      list(APPEND _flags "SHELL:-Xarch_${arch} -nogpulib")
    endif()
  endforeach()
endif()
list(REMOVE_DUPLICATES _targets)
string(REPLACE ";" "," _targets "${_targets}")
set(OIU_OFFLOAD_FLAGS -fopenmp -fopenmp-targets=${_targets} ${_flags} -Wno-unused-command-line-argument)
message(STATUS "omp-iouring offload archs: ${OIU_OFFLOAD_ARCHS}")
