/* Exponential ceiling with full jitter: spreads reconnecting clients over
 * the whole window so that a server restart is not met by a stampede. */
#include "backoff.h"

#include <stddef.h>

#define DEFAULT_INITIAL_MS 500u
#define DEFAULT_MAX_MS     30000u
#define DEFAULT_FACTOR     2.0
#define DEFAULT_HEALTHY_MS 10000u

void scn__backoff_init(scn_backoff *b, const scn_backoff_policy *policy)
{
    scn_backoff_policy p = {0, 0, 0.0, 0, 0};

    if (policy)
        p = *policy;
    if (p.initial_ms == 0)
        p.initial_ms = DEFAULT_INITIAL_MS;
    if (p.max_ms == 0)
        p.max_ms = DEFAULT_MAX_MS;
    if (p.factor == 0.0)
        p.factor = DEFAULT_FACTOR;
    else if (!(p.factor >= 1.0)) /* also catches NaN */
        p.factor = 1.0;
    if (p.healthy_ms == 0)
        p.healthy_ms = DEFAULT_HEALTHY_MS;
    if (p.initial_ms > p.max_ms)
        p.initial_ms = p.max_ms;
    b->policy = p;
    b->attempt = 0;
}

uint32_t scn__backoff_ceiling(const scn_backoff *b)
{
    double max = (double)b->policy.max_ms;
    double value = (double)b->policy.initial_ms;
    double base = b->policy.factor;
    uint32_t e = b->attempt;

    /* initial * factor^attempt by squaring: O(32) steps whatever the
     * attempt, stopping as soon as the cap is reached. Doubles saturate
     * to infinity rather than wrap, so the comparison stays valid. */
    while (e != 0 && value < max) {
        if (e & 1u)
            value *= base;
        e >>= 1;
        if (e != 0)
            base *= base;
    }
    if (!(value < max))
        return b->policy.max_ms;
    return (uint32_t)value;
}

uint32_t scn__backoff_next(scn_backoff *b, scn_rng *rng)
{
    uint32_t delay = scn__rng_upto(rng, scn__backoff_ceiling(b));

    if (b->attempt != UINT32_MAX)
        b->attempt++;
    return delay;
}

bool scn__backoff_exhausted(const scn_backoff *b)
{
    return b->policy.max_attempts != 0 && b->attempt >= b->policy.max_attempts;
}

void scn__backoff_reset(scn_backoff *b)
{
    b->attempt = 0;
}
