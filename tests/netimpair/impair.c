/* The impairment policy; see impair.h. */
#include "impair.h"

#include <string.h>

/* xorshift64*: small, seedable, good enough to pick packets. */
static uint64_t next_u64(impair *im)
{
    uint64_t x = im->rng;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    im->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, 1). */
static double next_unit(impair *im)
{
    return (double)(next_u64(im) >> 11) / 9007199254740992.0;
}

void impair_init(impair *im, uint64_t seed)
{
    memset(im, 0, sizeof(*im));
    im->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
    im->cfg.reorder_ms = 20;
}

void impair_flap(impair *im, uint64_t now_us, uint32_t up_ms, uint32_t down_ms)
{
    im->cfg.flap_up_ms = up_ms && down_ms ? up_ms : 0;
    im->cfg.flap_down_ms = up_ms && down_ms ? down_ms : 0;
    im->flap_since_us = now_us;
}

void impair_blackout(impair *im, uint64_t now_us, uint32_t ms)
{
    im->blackout = true;
    im->blackout_until_us = ms ? now_us + (uint64_t)ms * 1000u : 0;
}

void impair_restore(impair *im)
{
    im->blackout = false;
    im->cfg.flap_up_ms = im->cfg.flap_down_ms = 0;
}

static bool flap_down(const impair *im, uint64_t now_us)
{
    uint64_t up = (uint64_t)im->cfg.flap_up_ms * 1000u;
    uint64_t period = up + (uint64_t)im->cfg.flap_down_ms * 1000u;

    if (!period || now_us < im->flap_since_us)
        return false;
    return (now_us - im->flap_since_us) % period >= up;
}

static bool blacked_out(impair *im, uint64_t now_us)
{
    if (im->blackout && im->blackout_until_us &&
        now_us >= im->blackout_until_us)
        im->blackout = false;
    return im->blackout;
}

bool impair_link_up(impair *im, uint64_t now_us)
{
    return !blacked_out(im, now_us) && !flap_down(im, now_us);
}

/* Down now: why, counted; IMPAIR_PASS when up. */
static impair_verdict down_verdict(impair *im, uint64_t now_us)
{
    if (blacked_out(im, now_us)) {
        im->n.dropped_blackout++;
        return IMPAIR_DROP_BLACKOUT;
    }
    if (flap_down(im, now_us)) {
        im->n.dropped_flap++;
        return IMPAIR_DROP_FLAP;
    }
    return IMPAIR_PASS;
}

impair_verdict impair_admit(impair *im, uint64_t now_us, uint64_t *release_us)
{
    impair_verdict v = down_verdict(im, now_us);
    uint64_t wait_us;

    if (v != IMPAIR_PASS)
        return v;
    if (im->cfg.drop > 0 && next_unit(im) < im->cfg.drop) {
        im->n.dropped_random++;
        return IMPAIR_DROP_RANDOM;
    }
    wait_us = (uint64_t)im->cfg.delay_ms * 1000u;
    if (im->cfg.jitter_ms)
        wait_us += next_u64(im) % ((uint64_t)im->cfg.jitter_ms * 1000u + 1);
    if (im->cfg.reorder > 0 && next_unit(im) < im->cfg.reorder) {
        im->n.reordered++;
        wait_us += (uint64_t)im->cfg.reorder_ms * 1000u;
    }
    *release_us = now_us + wait_us;
    return IMPAIR_PASS;
}

impair_verdict impair_release(impair *im, uint64_t now_us)
{
    impair_verdict v = down_verdict(im, now_us);

    if (v == IMPAIR_PASS)
        im->n.passed++;
    return v;
}
