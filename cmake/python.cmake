# The Python module (`import accel`): pybind11 (Debian pybind11-dev) over the C++ engine, built
# when pybind11 and Python's headers are found. It lands in <build>/python; tests/python runs
# its tests with pytest.
if(ACCEL_SANITIZE)
  return()  # an uninstrumented interpreter cannot load a sanitizer-instrumented module
endif()
if(NOT Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3)  # Debian's interpreter: the one pybind11-dev and numpy are for
endif()
set(PYBIND11_FINDPYTHON ON)
find_package(Python3 COMPONENTS Interpreter Development.Module QUIET)
find_package(pybind11 CONFIG QUIET)
if(NOT (Python3_FOUND AND pybind11_FOUND))
  message(STATUS "accel: Python module off (needs pybind11-dev and python3-dev)")
  return()
endif()
message(STATUS "accel: Python module for ${Python3_EXECUTABLE}")
# NO_EXTRAS: no link-time optimisation of the module (it would re-optimise the static engine
# serially on every build); symbols stay hidden as pybind11 recommends.
pybind11_add_module(accel_python MODULE NO_EXTRAS ${PROJECT_SOURCE_DIR}/python/accel_module.cpp)
set_target_properties(accel_python PROPERTIES OUTPUT_NAME accel LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/python
                      CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
target_link_libraries(accel_python PRIVATE accel_engine accel_hw)
set(ACCEL_PYTHON_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/python3/dist-packages CACHE PATH "Where `cmake --install` puts the Python module")
install(TARGETS accel_python LIBRARY DESTINATION ${ACCEL_PYTHON_INSTALL_DIR})
set(ACCEL_PYTHON_MODULE_DIR ${PROJECT_BINARY_DIR}/python)
