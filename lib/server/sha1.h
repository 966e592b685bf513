/*
 * SHA-1 (FIPS 180-4) of a buffer, for the one place a WebSocket server
 * needs it: Sec-WebSocket-Accept (RFC 6455 4.2.2), which is not a
 * security use. Written here rather than taken from libcrypto: OpenSSL
 * 3's SHA1() loads its provider machinery on first use, about 2 MiB of
 * RSS that a ws:// process otherwise never pays. Pure.
 */
#ifndef SCN_SHA1_H
#define SCN_SHA1_H

#include <stddef.h>

#define SCN_SHA1_LEN 20

void scn__sha1(const void *data, size_t len, unsigned char out[SCN_SHA1_LEN]);

#endif
