# Debian arm64 (Raspberry Pi 4/5 64-bit, Jetson class boards): cmake
# -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm64.cmake, or `make cross ARCH=arm64`.
set(SCN_CROSS_ARCH arm64)
set(SCN_CROSS_TRIPLET aarch64-linux-gnu)
set(SCN_CROSS_PROCESSOR aarch64)
set(SCN_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/cross-debian.cmake)
