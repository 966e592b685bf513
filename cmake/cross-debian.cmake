# Shared part of the Debian cross toolchain files (toolchain-armhf.cmake,
# toolchain-arm64.cmake): Debian's cross compiler, the multiarch libraries
# of the target (dpkg --add-architecture), libwebsockets' headers from the
# sysroot scripts/install-cross-deps unpacks, and qemu-user as the
# emulator, so ctest runs the target's test programs without binfmt.
# Expects SCN_CROSS_ARCH (Debian's name), SCN_CROSS_TRIPLET (the multiarch
# tuple), SCN_CROSS_PROCESSOR and SCN_CROSS_QEMU to be set by the caller.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${SCN_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${SCN_CROSS_TRIPLET}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${SCN_CROSS_TRIPLET})

# Only the target's multiarch directories: the host's libraries in
# /usr/lib/x86_64-linux-gnu must never be found.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

set(SCN_CROSS_SYSROOT "/var/cache/scentience-cross/${SCN_CROSS_ARCH}"
  CACHE PATH "libwebsockets-dev unpacked by scripts/install-cross-deps")
# pkg-config reads only the target's .pc files; lws' comes first, from the
# sysroot (its prefix points there for headers, its libdir at the
# multiarch directory where libwebsockets17:ARCH installed the library).
set(ENV{PKG_CONFIG_LIBDIR}
  "${SCN_CROSS_SYSROOT}/usr/lib/${SCN_CROSS_TRIPLET}/pkgconfig:/usr/lib/${SCN_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# Dynamically linked target programs run under qemu-user with the
# multiarch libc and libraries the -dev packages pulled in (/lib/ld-*.so).
find_program(SCN_CROSS_EMULATOR_PROGRAM ${SCN_CROSS_QEMU} REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${SCN_CROSS_EMULATOR_PROGRAM})
