/*
 * Masking keys for client WebSocket frames, drawn from the kernel's
 * random source a block at a time: one getrandom() per 64 frames instead
 * of libwebsockets' read() of 4 bytes from /dev/urandom per frame.
 * RFC 6455 asks for unpredictable keys (from a strong source); the block
 * is that source's output, each key used once.
 */
#ifndef SCN_MASK_POOL_H
#define SCN_MASK_POOL_H

#include <stddef.h>

typedef struct scn_mask_pool {
    unsigned char bytes[256];
    size_t at; /* bytes[at..] are unused; sizeof(bytes): empty */
} scn_mask_pool;

void scn__mask_pool_init(scn_mask_pool *pool);

/* The next 4-byte key. Returns 0, or SCN_ERR_IO when the kernel gives no
 * randomness (the frame must not go out unmasked). */
int scn__mask_pool_take(scn_mask_pool *pool, unsigned char key[4]);

#endif
