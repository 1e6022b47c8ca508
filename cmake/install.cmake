# `cmake --install build --prefix P` lays out:
#   P/include/facet/predictor.h          the public API (facet::Predictor; the only header a user needs)
#   P/lib/libfacet_*.a                   the static libraries of every layer, and the device backend
#   P/lib/cmake/facet/facetConfig.cmake  find_package(facet) -> the target facet::facet
#   P/bin/facet                          the command line
# Static, not shared: the layers are already static libraries and the device backend (nvcc's kernels or the
# CPU emulator) is picked at link time (facet_device), so a shared libfacet would mean compiling every object a
# second time with -fPIC. A static link also leaves the consumer's binary without an rpath to manage. The cost
# is that the consumer links facet's own dependencies: OpenMP, and Boost.Context (the emulator's fibres) in a
# CPU-only build or CUDA's runtime in a CUDA build; facetConfig.cmake finds them (find_dependency). stb is
# compiled into libfacet_data.a and CLI11 only into the facet binary, so neither is needed; nlohmann_json is
# header-only but on the libraries' public interface, so it is found too.
include(CMakePackageConfigHelpers)

# The device backend installed is this build's one (FACET_DEVICE_LIB: facet_cuda, or the emulator).
set(facet_export_targets facet facet_models facet_nn facet_data facet_tensor facet_io facet_kernels facet_flags
                         facet_device ${FACET_DEVICE_LIB})
install(TARGETS ${facet_export_targets} EXPORT facetTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${PROJECT_SOURCE_DIR}/models/predictor.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/facet)
install(TARGETS facet_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(facet_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/facet)
install(EXPORT facetTargets NAMESPACE facet:: DESTINATION ${facet_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/facetConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/facetConfig.cmake INSTALL_DESTINATION ${facet_cmake_dir})
# 0.x: a minor version may change the API, so only the same major.minor is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/facetConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/facetConfig.cmake ${PROJECT_BINARY_DIR}/facetConfigVersion.cmake
        DESTINATION ${facet_cmake_dir})
