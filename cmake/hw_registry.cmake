# Hardware layer and model catalog: included by the top-level CMakeLists after `accel` exists.

# NUMA topology through hwloc (Debian libhwloc-dev). Without it, NUMA is reported as unknown.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(HWLOC QUIET IMPORTED_TARGET hwloc)
endif()
if(HWLOC_FOUND)
  target_link_libraries(accel PRIVATE PkgConfig::HWLOC)
  target_compile_definitions(accel PRIVATE ACCEL_HAVE_HWLOC=1)
endif()

# The model catalog is a data file (src/registry/catalog.json) compiled into the library so
# the binary works from any folder; editing the JSON re-runs this step.
set(ACCEL_CATALOG_JSON ${CMAKE_SOURCE_DIR}/src/registry/catalog.json)
set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${ACCEL_CATALOG_JSON})
file(READ ${ACCEL_CATALOG_JSON} ACCEL_CATALOG_TEXT)
configure_file(${CMAKE_SOURCE_DIR}/src/registry/catalog_data.h.in
               ${CMAKE_BINARY_DIR}/generated/registry/catalog_data.h @ONLY)

# The defaults of Hugging Face's config classes (src/formats/config_defaults.json), filled into
# every config.json that omits them; embedded the same way as the catalog.
set(ACCEL_CONFIG_DEFAULTS_JSON ${CMAKE_SOURCE_DIR}/src/formats/config_defaults.json)
set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${ACCEL_CONFIG_DEFAULTS_JSON})
file(READ ${ACCEL_CONFIG_DEFAULTS_JSON} ACCEL_CONFIG_DEFAULTS_TEXT)
configure_file(${CMAKE_SOURCE_DIR}/src/formats/config_defaults_data.h.in
               ${CMAKE_BINARY_DIR}/generated/formats/config_defaults_data.h @ONLY)
