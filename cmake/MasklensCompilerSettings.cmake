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
