# The libraries, one per role, so that a program links only what it uses:
#
#   accel_engine  core, graph, backends, formats, models, runtime, tokenizers, text, preprocess:
#                 everything that loads and runs a model (export accel::engine)
#   accel_hw      hw, registry, placement: hardware report, model catalog and classifier,
#                 memory estimate, resource pool, device selection (accel::hw)
#   accel_bench   bench, db, report: benchmark harness, SQLite/PostgreSQL store, HTML report
#                 (accel::bench)
#   accel_api     api: the remote inference providers (accel::api)
#   accel_serve   serve: the HTTP server (accel::serve)
#   accel_c       capi: the C API of include/accel/accel.h, the shared libaccel.so (accel::accel)
#
# Each layer is a folder under src/; the glob keeps adding a file to a layer a one-step change.
# BUILD_SHARED_LIBS picks shared or static C++ libraries; the C API library is always shared,
# exporting only its accel_* functions.

# Sources of the layers under src/ named in `dirs`.
function(accel_layer_sources out)
  set(files)
  foreach(dir ${ARGN})
    file(GLOB_RECURSE layer CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${dir}/*.cpp)
    list(APPEND files ${layer})
  endforeach()
  set(${out} ${files} PARENT_SCOPE)
endfunction()

# Kernels compiled for several ISAs and chosen at run time: a file named *_avx512.cpp,
# *_avx512vnni.cpp or *_avx2.cpp gets that target's flags, everything else stays baseline x86-64.
# (GCC 12's AVX-512 headers seed intrinsics with _mm512_undefined_*() and then warn "(maybe)
# uninitialized" wherever they are inlined, GCC bug 105593: silenced for those files only.)
function(accel_isa_flags)
  foreach(src ${ARGN})
    if(src MATCHES "_avx512\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS
        "-mavx512f;-mavx512bw;-mavx512dq;-mavx512vl;-mavx512bf16;-mfma;-mf16c;-mavx2;-Wno-maybe-uninitialized;-Wno-uninitialized")
    elseif(src MATCHES "_avx512vnni\\.cpp$")
      # Kept apart from the plain AVX-512 files: AVX-512 CPUs without VNNI (Skylake-SP) exist.
      set(opts "-mavx512f;-mavx512bw;-mavx512dq;-mavx512vl;-mavx512vnni;-mfma;-mf16c;-mavx2;-Wno-maybe-uninitialized;-Wno-uninitialized")
      if(src MATCHES "kquant_gemm_avx512vnni\\.cpp$")
        # The K-quant decode tiles are loop-alignment sensitive: Q5_K decode of the 1b model ran
        # 72 or 86 ms/token with identical code at two link addresses; 64-byte loops keep it at 72.
        list(APPEND opts "-falign-loops=64")
      endif()
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${opts}")
    elseif(src MATCHES "_avx2\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
    endif()
  endforeach()
endfunction()

# A C++ layer library: headers from src/ in the build tree, from include/accel once installed.
function(accel_add_library target export_name)
  add_library(${target} ${ARGN})
  add_library(accel::${export_name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name}
                        VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src> $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${ACCEL_GENERATED_DIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/accel> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  set_property(GLOBAL APPEND PROPERTY ACCEL_INSTALLED_TARGETS ${target})
endfunction()

include(GNUInstallDirs)

# --- accel_engine ---------------------------------------------------------------------------
if(ACCEL_ENGINE_ONLY)
  # What runs a model on token ids and tensors: no tokenizers or media decoding.
  accel_layer_sources(ACCEL_ENGINE_SOURCES core graph backends formats models runtime)
  list(FILTER ACCEL_ENGINE_SOURCES EXCLUDE REGEX "/src/formats/gguf_tokenizer|/src/runtime/[a-z_]*(pipeline|embedding|preprocess|whisper_decoding|model_text|text_model)")
else()
  accel_layer_sources(ACCEL_ENGINE_SOURCES core graph backends formats models runtime tokenizers text preprocess)
endif()
list(FILTER ACCEL_ENGINE_SOURCES EXCLUDE REGEX "/src/backends/cuda/")
set(ACCEL_SOURCES ${ACCEL_ENGINE_SOURCES})
# The defaults of Hugging Face's config classes (src/formats/config_defaults.json), filled into
# every config.json that omits them; compiled in like the catalog, re-read when the JSON changes.
set(ACCEL_CONFIG_DEFAULTS_JSON ${PROJECT_SOURCE_DIR}/src/formats/config_defaults.json)
set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${ACCEL_CONFIG_DEFAULTS_JSON})
file(READ ${ACCEL_CONFIG_DEFAULTS_JSON} ACCEL_CONFIG_DEFAULTS_TEXT)
configure_file(${PROJECT_SOURCE_DIR}/src/formats/config_defaults_data.h.in
               ${ACCEL_GENERATED_DIR}/formats/config_defaults_data.h @ONLY)
include(cmake/vulkan.cmake)  # filters src/backends/vulkan out of ACCEL_SOURCES when it is off
set(ACCEL_ENGINE_SOURCES ${ACCEL_SOURCES})
accel_isa_flags(${ACCEL_ENGINE_SOURCES})
accel_add_library(accel_engine engine ${ACCEL_ENGINE_SOURCES})
if(ACCEL_VULKAN_ENABLED)
  accel_add_vulkan_backend(accel_engine)
endif()
target_link_libraries(accel_engine PUBLIC nlohmann_json::nlohmann_json Threads::Threads ${CMAKE_DL_LIBS})
if(ACCEL_ENGINE_ONLY)
  target_compile_definitions(accel_engine PUBLIC ACCEL_ENGINE_ONLY=1)
else()
  target_link_libraries(accel_engine PRIVATE PkgConfig::ACCEL_TOK_DEPS PNG::PNG JPEG::JPEG
                                             PkgConfig::SNDFILE PkgConfig::SOXR)
endif()
if(ACCEL_CUDA)
  include(src/backends/cuda/cuda.cmake)
endif()

set(ACCEL_CLI_LIBRARIES accel_engine)
if(NOT ACCEL_ENGINE_ONLY)
  # --- accel_hw ---------------------------------------------------------------------------
  accel_layer_sources(ACCEL_HW_SOURCES hw registry placement)
  accel_add_library(accel_hw hw ${ACCEL_HW_SOURCES})
  target_link_libraries(accel_hw PUBLIC accel_engine)
  include(cmake/hw_registry.cmake)

  # --- accel_bench ------------------------------------------------------------------------
  accel_layer_sources(ACCEL_BENCH_SOURCES bench db report)
  accel_add_library(accel_bench bench ${ACCEL_BENCH_SOURCES})
  target_link_libraries(accel_bench PUBLIC accel_engine PRIVATE SQLite::SQLite3 PkgConfig::LIBPQ)

  # --- accel_api --------------------------------------------------------------------------
  accel_layer_sources(ACCEL_API_SOURCES api)
  accel_add_library(accel_api api ${ACCEL_API_SOURCES})
  target_link_libraries(accel_api PUBLIC accel_engine)
  include(src/api/deps.cmake)

  # --- accel_serve ------------------------------------------------------------------------
  accel_layer_sources(ACCEL_SERVE_SOURCES serve)
  accel_add_library(accel_serve serve ${ACCEL_SERVE_SOURCES})
  target_link_libraries(accel_serve PUBLIC accel_engine accel_hw accel_api)  # hw: memory admission; api: remote endpoints of routes
  include(src/serve/deps.cmake)

  # --- accel: the C API -------------------------------------------------------------------
  # Shared in every configuration: it is what C programs and other languages' FFIs load. A
  # version script exports accel_* and nothing of the C++ libraries inside it.
  accel_layer_sources(ACCEL_CAPI_SOURCES capi)
  add_library(accel_c SHARED ${ACCEL_CAPI_SOURCES})
  add_library(accel::accel ALIAS accel_c)
  set_target_properties(accel_c PROPERTIES OUTPUT_NAME accel EXPORT_NAME accel
                        VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
                        C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_include_directories(accel_c PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                            $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_definitions(accel_c PRIVATE ACCEL_BUILDING_LIBRARY=1)
  target_link_libraries(accel_c PRIVATE accel_engine accel_hw PkgConfig::ACCEL_TOK_DEPS)
  target_link_options(accel_c PRIVATE "LINKER:--version-script=${PROJECT_SOURCE_DIR}/src/capi/exports.map")
  set_property(TARGET accel_c APPEND PROPERTY LINK_DEPENDS ${PROJECT_SOURCE_DIR}/src/capi/exports.map)
  set_property(GLOBAL APPEND PROPERTY ACCEL_INSTALLED_TARGETS accel_c)

  set(ACCEL_CLI_LIBRARIES accel_engine accel_hw accel_bench accel_api accel_serve)
endif()

# What the tests and benches link: every C++ library this configuration builds.
add_library(accel_all INTERFACE)
target_link_libraries(accel_all INTERFACE ${ACCEL_CLI_LIBRARIES})

# --- the CLI ----------------------------------------------------------------------------------
file(GLOB ACCEL_CLI_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/cli/*.cpp)
if(ACCEL_ENGINE_ONLY)
  list(FILTER ACCEL_CLI_SOURCES INCLUDE REGEX "/src/cli/(main|common_flags|cmd_verify)\\.cpp$")
endif()
add_executable(accel_cli ${ACCEL_CLI_SOURCES})
set_target_properties(accel_cli PROPERTIES OUTPUT_NAME accel RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
target_link_libraries(accel_cli PRIVATE ${ACCEL_CLI_LIBRARIES} CLI11::CLI11)
