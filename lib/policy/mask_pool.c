/* Masking keys from a block of kernel randomness (see mask_pool.h). */
#include "mask_pool.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <scentience/error.h>

void scn__mask_pool_init(scn_mask_pool *pool)
{
    pool->at = sizeof(pool->bytes);
}

static int refill(scn_mask_pool *pool)
{
    size_t got = 0;

    while (got < sizeof(pool->bytes)) {
        ssize_t n = getrandom(pool->bytes + got, sizeof(pool->bytes) - got, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return SCN_ERR_IO;
        got += (size_t)n;
    }
    pool->at = 0;
    return 0;
}

int scn__mask_pool_take(scn_mask_pool *pool, unsigned char key[4])
{
    int rc;

    if (pool->at + 4 > sizeof(pool->bytes) && (rc = refill(pool)) != 0)
        return rc;
    memcpy(key, pool->bytes + pool->at, 4);
    /* Used once: wiped so that the pool never hands out a key twice. */
    memset(pool->bytes + pool->at, 0, 4);
    pool->at += 4;
    return 0;
}
