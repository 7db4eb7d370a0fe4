# SPDX-License-Identifier: MIT
# Turns OIU_OFFLOAD_ARCHS into the clang flags that compile and link OpenMP
# offload code for every arch (clang takes the same set at both steps):
#   OIU_OFFLOAD_FLAGS
set(_targets "")
set(_flags "")
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
    if(NOT OIU_AMDGPU_BC)
      message(FATAL_ERROR "${arch} needs OIU_AMDGPU_BC (scripts/setup-debian.sh prints it)")
    endif()
    get_filename_component(_rtl "${OIU_AMDGPU_BC}" DIRECTORY)
    list(APPEND _targets amdgcn-amd-amdhsa)
    # Debian's rocm-device-libs 5.2.3 lacks code object ABI 6: use 5. clang 22
    # takes AMDGPU's DeviceRTL only from -lompdevice (no bitcode path).
    list(APPEND _flags -Xopenmp-target=amdgcn-amd-amdhsa -march=${arch}
         -Xopenmp-target=amdgcn-amd-amdhsa -mcode-object-version=5
         --rocm-device-lib-path=${OIU_ROCM_DEVICE_LIBS}
         -Xoffload-linker-amdgcn-amd-amdhsa -L${_rtl}/amdgcn-amd-amdhsa)
  else()
    message(FATAL_ERROR "unknown offload arch '${arch}' in OIU_OFFLOAD_ARCHS")
  endif()
endforeach()
list(REMOVE_DUPLICATES _targets)
string(REPLACE ";" "," _targets "${_targets}")
set(OIU_OFFLOAD_FLAGS -fopenmp -fopenmp-targets=${_targets} ${_flags} -Wno-unused-command-line-argument)
message(STATUS "omp-iouring offload archs: ${OIU_OFFLOAD_ARCHS}")
