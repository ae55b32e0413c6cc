# The CUDA backend: our kernels (nvcc), the backend (host C++ on the CUDA runtime headers), the
# static CUDA runtime, and cuBLAS loaded at run time (cublas_loader.cpp) so that the library and
# every tool built on it start on machines without CUDA libraries.
file(GLOB ACCEL_CUDA_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/backends/cuda/*.cpp
                                                ${PROJECT_SOURCE_DIR}/src/backends/cuda/*.cu)
target_sources(accel_engine PRIVATE ${ACCEL_CUDA_SOURCES})
set_source_files_properties(${PROJECT_SOURCE_DIR}/src/backends/cuda/cuda_kernels.cu PROPERTIES COMPILE_OPTIONS
  "-gencode=arch=compute_90a,code=sm_90a;-gencode=arch=compute_90,code=compute_90;-O3")
target_include_directories(accel_engine PRIVATE ${CUDAToolkit_INCLUDE_DIRS})
target_link_libraries(accel_engine PRIVATE CUDA::cudart_static)
target_compile_definitions(accel_engine PRIVATE ACCEL_WITH_CUDA=1 ACCEL_CUDA_LIB_DIR="${CUDAToolkit_LIBRARY_DIR}")
set_property(TARGET accel_engine PROPERTY CUDA_STANDARD 17)
