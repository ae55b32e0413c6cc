# `cmake --install`: the libraries, public headers, the CLI, the bundled models, docs, an
# exported CMake package (find_package(accel CONFIG) -> accel::engine, accel::accel, ...) and
# pkg-config files (accel.pc: the C API; accel-engine.pc: the C++ engine library).
include(CMakePackageConfigHelpers)
set(ACCEL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/accel)

get_property(ACCEL_INSTALLED_TARGETS GLOBAL PROPERTY ACCEL_INSTALLED_TARGETS)
install(TARGETS ${ACCEL_INSTALLED_TARGETS} EXPORT accelTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS accel_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT accelTargets NAMESPACE accel:: DESTINATION ${ACCEL_CMAKE_DIR})

# Headers: the C API at include/accel/accel.h; the C++ layers under include/accel/<layer>/.
install(FILES ${PROJECT_SOURCE_DIR}/include/accel/accel.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/accel)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/accel
        FILES_MATCHING PATTERN "*.h" PATTERN "cli" EXCLUDE PATTERN "capi" EXCLUDE PATTERN "shaders" EXCLUDE)
install(FILES ${ACCEL_GENERATED_DIR}/core/version.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/accel/core)

# Data found relative to the installed binary (bin/../share/accel/models): the bundled models.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/tests/data/models/ DESTINATION ${CMAKE_INSTALL_DATADIR}/accel/models)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")

# What a consumer's find_package must find again: with static libraries, every private
# dependency of every library is part of the link.
if(BUILD_SHARED_LIBS)
  set(ACCEL_STATIC_LIBS OFF)
else()
  set(ACCEL_STATIC_LIBS ON)
endif()
set(ACCEL_HAVE_HWLOC ${HWLOC_FOUND})
if(ACCEL_CUDA)
  set(ACCEL_CUDA_BOOL ON)
else()
  set(ACCEL_CUDA_BOOL OFF)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/accelConfig.cmake.in
  ${PROJECT_BINARY_DIR}/accelConfig.cmake INSTALL_DESTINATION ${ACCEL_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/accelConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/accelConfig.cmake ${PROJECT_BINARY_DIR}/accelConfigVersion.cmake
        DESTINATION ${ACCEL_CMAKE_DIR})

if(NOT ACCEL_ENGINE_ONLY)
  # A static engine library needs its dependencies on the consumer's link line (plain
  # `pkg-config --libs`); a shared one needs them only for a static link (--static).
  set(ACCEL_ENGINE_PC_DEPS "libutf8proc libpcre2-8 sentencepiece libpng libjpeg sndfile soxr")
  if(BUILD_SHARED_LIBS)
    set(ACCEL_PC_REQUIRES "Requires: nlohmann_json\nRequires.private: ${ACCEL_ENGINE_PC_DEPS}")
  else()
    set(ACCEL_PC_REQUIRES "Requires: nlohmann_json ${ACCEL_ENGINE_PC_DEPS}")
  endif()
  string(REPLACE "\\n" "\n" ACCEL_PC_REQUIRES "${ACCEL_PC_REQUIRES}")
  set(ACCEL_PC_EXTRA_LIBS "")
  if(ACCEL_CUDA AND NOT BUILD_SHARED_LIBS)
    set(ACCEL_PC_EXTRA_LIBS " -L${CUDAToolkit_LIBRARY_DIR} -lcudart_static -lrt")  # the CUDA runtime inside the engine
  endif()
  configure_file(${PROJECT_SOURCE_DIR}/cmake/accel.pc.in ${PROJECT_BINARY_DIR}/accel.pc @ONLY)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/accel-engine.pc.in ${PROJECT_BINARY_DIR}/accel-engine.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/accel.pc ${PROJECT_BINARY_DIR}/accel-engine.pc
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()
