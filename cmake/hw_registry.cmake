# Hardware layer and model catalog: included by the top-level CMakeLists after `accel_hw` exists.

# NUMA topology through hwloc (Debian libhwloc-dev). Without it, NUMA is reported as unknown.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(HWLOC QUIET IMPORTED_TARGET hwloc)
endif()
if(HWLOC_FOUND)
  target_link_libraries(accel_hw PRIVATE PkgConfig::HWLOC)
  target_compile_definitions(accel_hw PRIVATE ACCEL_HAVE_HWLOC=1)
endif()

# The model catalog is a data file (src/registry/catalog.json) compiled into the library so
# the binary works from any folder; editing the JSON re-runs this step.
set(ACCEL_CATALOG_JSON ${PROJECT_SOURCE_DIR}/src/registry/catalog.json)
set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${ACCEL_CATALOG_JSON})
file(READ ${ACCEL_CATALOG_JSON} ACCEL_CATALOG_TEXT)
configure_file(${PROJECT_SOURCE_DIR}/src/registry/catalog_data.h.in
               ${ACCEL_GENERATED_DIR}/registry/catalog_data.h @ONLY)
