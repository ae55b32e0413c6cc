# The Vulkan backend (src/backends/vulkan): built when the Vulkan headers and a GLSL -> SPIR-V
# compiler (glslc, or glslangValidator) are found. The library loads libvulkan at run time
# (dlopen), so a binary built with it still runs, on the CPU, where no loader is installed.
set(ACCEL_WITH_VULKAN AUTO CACHE STRING "Build the Vulkan backend: AUTO (when Vulkan headers and glslc/glslangValidator are found), ON or OFF")
set_property(CACHE ACCEL_WITH_VULKAN PROPERTY STRINGS AUTO ON OFF)
set(ACCEL_VULKAN_ENABLED OFF)
if(NOT ACCEL_WITH_VULKAN STREQUAL "OFF")
  find_path(ACCEL_VULKAN_INCLUDE_DIR vulkan/vulkan.h)
  find_program(ACCEL_GLSLC glslc)
  find_program(ACCEL_GLSLANG glslangValidator)
  if(ACCEL_VULKAN_INCLUDE_DIR AND (ACCEL_GLSLC OR ACCEL_GLSLANG))
    set(ACCEL_VULKAN_ENABLED ON)
  elseif(ACCEL_WITH_VULKAN STREQUAL "ON")
    message(FATAL_ERROR "ACCEL_WITH_VULKAN=ON but the Vulkan headers (libvulkan-dev) or a shader compiler (glslc) is missing")
  endif()
endif()
message(STATUS "Vulkan backend: ${ACCEL_VULKAN_ENABLED}")
if(NOT ACCEL_VULKAN_ENABLED)
  list(FILTER ACCEL_SOURCES EXCLUDE REGEX "/src/backends/vulkan/")
endif()

# Compiles every shader to SPIR-V and embeds it as a byte array (generated/vulkan/NAME.spv.inc)
# in `target`.
function(accel_add_vulkan_backend target)
  set(dir ${PROJECT_SOURCE_DIR}/src/backends/vulkan/shaders)
  set(out ${ACCEL_GENERATED_DIR}/vulkan)
  file(MAKE_DIRECTORY ${out})
  file(GLOB shaders CONFIGURE_DEPENDS ${dir}/*.comp)
  set(incs)
  foreach(src ${shaders})
    get_filename_component(name ${src} NAME_WE)
    if(ACCEL_GLSLC)
      set(compile ${ACCEL_GLSLC} --target-env=vulkan1.1 -O -o ${out}/${name}.spv ${src})
    else()
      set(compile ${ACCEL_GLSLANG} -V --target-env vulkan1.1 -o ${out}/${name}.spv ${src})
    endif()
    add_custom_command(OUTPUT ${out}/${name}.spv.inc
      COMMAND ${compile}
      COMMAND ${CMAKE_COMMAND} -DIN=${out}/${name}.spv -DOUT=${out}/${name}.spv.inc -P ${PROJECT_SOURCE_DIR}/cmake/embed_bytes.cmake
      DEPENDS ${src} ${dir}/common.glsl ${PROJECT_SOURCE_DIR}/cmake/embed_bytes.cmake
      COMMENT "SPIR-V ${name}" VERBATIM)
    list(APPEND incs ${out}/${name}.spv.inc)
  endforeach()
  add_custom_target(accel_vulkan_shaders DEPENDS ${incs})
  add_dependencies(${target} accel_vulkan_shaders)
  set_source_files_properties(${PROJECT_SOURCE_DIR}/src/backends/vulkan/vulkan_backend.cpp PROPERTIES OBJECT_DEPENDS "${incs}")
  target_include_directories(${target} PRIVATE ${ACCEL_VULKAN_INCLUDE_DIR})
  target_compile_definitions(${target} PUBLIC ACCEL_WITH_VULKAN=1)
endfunction()
