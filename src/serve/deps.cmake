# HTTP server of `accel serve`: cpp-httplib (Debian libcpp-httplib-dev). Debian builds it as a
# shared library whose header only declares; its pkg-config flags (OpenSSL/zlib/brotli support)
# change the classes' layout, so every file that includes httplib.h takes them: the files of
# this layer, and (INTERFACE) whatever links accel_serve.
find_package(PkgConfig REQUIRED)
pkg_check_modules(ACCEL_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
file(GLOB ACCEL_SERVE_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
set_source_files_properties(${ACCEL_SERVE_SOURCES} PROPERTIES COMPILE_OPTIONS "${ACCEL_HTTPLIB_CFLAGS}")
target_link_libraries(accel_serve INTERFACE PkgConfig::ACCEL_HTTPLIB)
