# Debian armhf (Raspberry Pi OS 32-bit class boards): cmake
# -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-armhf.cmake, or `make cross ARCH=armhf`.
set(SCN_CROSS_ARCH armhf)
set(SCN_CROSS_TRIPLET arm-linux-gnueabihf)
set(SCN_CROSS_PROCESSOR arm)
set(SCN_CROSS_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/cross-debian.cmake)
