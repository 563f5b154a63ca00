# Warnings and sanitizers for every MaskLens target (applied per target through
# masklens_target_defaults so third-party code is not affected).
add_library(masklens_compile_options INTERFACE)
target_compile_options(masklens_compile_options INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion>)
if(MASKLENS_SANITIZE)
  target_compile_options(masklens_compile_options INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${MASKLENS_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all>)
  target_link_options(masklens_compile_options INTERFACE -fsanitize=${MASKLENS_SANITIZE})
endif()

function(masklens_target_defaults target)
  target_link_libraries(${target} PRIVATE masklens_compile_options)
endfunction()

# Instruction set: the engine's logs and sums are SIMD code (Eigen packets and
# vectorised loops); AVX2 + FMA roughly doubles their width over the x86-64
# baseline. AUTO uses x86-64-v3 when the building machine has AVX2 and FMA
# (a locally built desktop tool runs where it is built); set it to "" for a
# portable baseline build or to any -march value.
set(MASKLENS_ARCH "AUTO" CACHE STRING "-march for all MaskLens targets: AUTO, empty, or a -march value")
set(_masklens_march "${MASKLENS_ARCH}")
if(MASKLENS_ARCH STREQUAL "AUTO")
  set(_masklens_march "")
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64" AND EXISTS /proc/cpuinfo)
    file(READ /proc/cpuinfo _masklens_cpuinfo LIMIT 65536)
    if(_masklens_cpuinfo MATCHES "[ \t]avx2[ \t\n]" AND _masklens_cpuinfo MATCHES "[ \t]fma[ \t\n]")
      set(_masklens_march "x86-64-v3")
    endif()
  endif()
endif()
if(_masklens_march)
  message(STATUS "MaskLens: -march=${_masklens_march}")
  # Whole-program flag: Eigen's alignment must agree between translation units.
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-march=${_masklens_march}>)
endif()
