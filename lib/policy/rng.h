/* A small seedable random source (splitmix64) for jitter. Policy code takes
 * it as an input so that tests replay exact schedules. */
#ifndef SCN_RNG_H
#define SCN_RNG_H

#include <stdint.h>

typedef struct scn_rng {
    uint64_t state;
} scn_rng;

void scn__rng_seed(scn_rng *rng, uint64_t seed);
uint64_t scn__rng_next(scn_rng *rng);
/* Uniform in [0, bound]; inclusive so that full jitter can reach the
 * ceiling. bound 0 returns 0. Unbiased (rejection sampling). */
uint32_t scn__rng_upto(scn_rng *rng, uint32_t bound);
/* A seed from getrandom(), falling back to the clock and the address of a
 * local; never 0. */
uint64_t scn__rng_os_seed(void);

#endif
