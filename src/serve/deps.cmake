# HTTP server of `accel serve`: cpp-httplib (Debian libcpp-httplib-dev). Debian builds it as a
# shared library whose header only declares; its pkg-config flags (OpenSSL/zlib/brotli support)
# change the classes' layout, so every file that includes httplib.h takes them: the files of
# this layer, and (INTERFACE) whatever links accel_serve.
find_package(PkgConfig REQUIRED)
pkg_check_modules(ACCEL_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
file(GLOB ACCEL_SERVE_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
set_source_files_properties(${ACCEL_SERVE_SOURCES} PROPERTIES COMPILE_OPTIONS "${ACCEL_HTTPLIB_CFLAGS}")
target_link_libraries(accel_serve INTERFACE PkgConfig::ACCEL_HTTPLIB)
# `--config serve.toml`: toml11 (Debian libtoml11-dev), header-only in the system include path
# and used by one source file: checked for, not linked (an exported target would make every
# consumer of the installed package find it too).
find_path(ACCEL_TOML11_INCLUDE_DIR toml.hpp)
if(NOT ACCEL_TOML11_INCLUDE_DIR)
  message(FATAL_ERROR "toml11 not found: install libtoml11-dev (scripts/setup.sh does)")
endif()
