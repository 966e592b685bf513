/* splitmix64: tiny, fast, and every seed (0 included) gives a full-period
 * stream, which is all jitter needs. Not for cryptography. */
#include "rng.h"

#include <errno.h>
#include <sys/random.h>
#include <time.h>

void scn__rng_seed(scn_rng *rng, uint64_t seed)
{
    rng->state = seed;
}

uint64_t scn__rng_next(scn_rng *rng)
{
    uint64_t z;

    rng->state += 0x9e3779b97f4a7c15ull;
    z = rng->state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t scn__rng_upto(scn_rng *rng, uint32_t bound)
{
    uint64_t range = (uint64_t)bound + 1;
    /* 2^64 mod range: draws below it would make low values likelier. */
    uint64_t reject = (0 - range) % range;
    uint64_t x;

    if (bound == 0)
        return 0;
    do {
        x = scn__rng_next(rng);
    } while (x < reject);
    return (uint32_t)(x % range);
}

uint64_t scn__rng_os_seed(void)
{
    uint64_t seed = 0;
    size_t got = 0;
    int local;

    while (got < sizeof(seed)) {
        ssize_t n = getrandom((unsigned char *)&seed + got, sizeof(seed) - got,
                              GRND_NONBLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got < sizeof(seed)) {
        /* No entropy pool yet (early boot) or no syscall: mix what
         * differs between processes and runs. Good enough for jitter. */
        struct timespec ts = {0, 0};
        scn_rng mix;

        clock_gettime(CLOCK_REALTIME, &ts);
        seed ^= (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed ^= ((uint64_t)ts.tv_nsec << 32) ^ (uint64_t)ts.tv_sec;
        seed ^= (uint64_t)(uintptr_t)&local;
        scn__rng_seed(&mix, seed);
        seed = scn__rng_next(&mix);
    }
    return seed ? seed : 0x9e3779b97f4a7c15ull;
}
