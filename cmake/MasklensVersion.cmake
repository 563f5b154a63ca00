# One version: project(VERSION) plus, in a git checkout, `git describe`
# (commit and dirty state), e.g. "0.1.0+g1a2b3c4" or "0.1.0+g1a2b3c4-dirty".
# Read at configure time: re-run cmake after committing for a fresh suffix.
set(MASKLENS_VERSION_STRING "${PROJECT_VERSION}")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
  execute_process(
    COMMAND "${GIT_EXECUTABLE}" describe --always --dirty --abbrev=7
    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
    OUTPUT_VARIABLE _masklens_describe OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _masklens_git_result ERROR_QUIET)
  if(_masklens_git_result EQUAL 0 AND _masklens_describe)
    set(MASKLENS_VERSION_STRING "${PROJECT_VERSION}+g${_masklens_describe}")
  endif()
endif()
message(STATUS "MaskLens version ${MASKLENS_VERSION_STRING}")
