# Fails when a file of the engine core (engine/, except its io/ readers) or
# of the evaluation service (service/) includes a Qt or VTK header.
file(GLOB_RECURSE sources ${ROOT}/engine/*.h ${ROOT}/engine/*.cpp ${ROOT}/service/*.h ${ROOT}/service/*.cpp)
foreach(source ${sources})
  if(source MATCHES "/engine/io/")
    continue()
  endif()
  file(STRINGS ${source} lines REGEX "#include *[<\"](Q[A-Za-z]+|vtk[A-Za-z0-9]+\\.h)")
  if(lines)
    message(FATAL_ERROR "${source} includes a toolkit header: ${lines}")
  endif()
endforeach()
