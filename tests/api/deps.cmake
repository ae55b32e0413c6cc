# The API tests run a real HTTP server (cpp-httplib, Debian libcpp-httplib-dev) on loopback.
find_package(PkgConfig REQUIRED)
pkg_check_modules(CPP_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
file(GLOB ACCEL_API_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*_test.cpp)
foreach(src ${ACCEL_API_TESTS})
  get_filename_component(name ${src} NAME_WE)
  target_link_libraries(${name} PRIVATE PkgConfig::CPP_HTTPLIB pugixml::pugixml)
endforeach()
