/*
 * The impairment policy of netimpair: what happens to one packet at a given
 * time. Pure: the time (monotonic microseconds) and the random state come
 * in, a verdict comes out, so the router loop only moves bytes.
 *
 * A packet is dropped while the link is down (a blackout, or the down half
 * of a flap period), else dropped with probability drop, else released
 * after delay + uniform(0, jitter), and with probability reorder held back
 * reorder_gap more, so that packets behind it overtake it.
 */
#ifndef NETIMPAIR_IMPAIR_H
#define NETIMPAIR_IMPAIR_H

#include <stdbool.h>
#include <stdint.h>

typedef struct impair_cfg {
    double drop;         /* probability per packet, 0..1 */
    uint32_t delay_ms;   /* fixed one-way delay */
    uint32_t jitter_ms;  /* plus uniform 0..jitter_ms */
    double reorder;      /* probability a packet is held back */
    uint32_t reorder_ms; /* by this much more (default 20) */
    uint32_t flap_up_ms; /* both set: the link flaps, up first */
    uint32_t flap_down_ms;
} impair_cfg;

typedef enum impair_verdict {
    IMPAIR_PASS = 0,
    IMPAIR_DROP_RANDOM,
    IMPAIR_DROP_BLACKOUT,
    IMPAIR_DROP_FLAP
} impair_verdict;

typedef struct impair_counts {
    uint64_t passed, dropped_random, dropped_blackout, dropped_flap;
    uint64_t reordered;
} impair_counts;

typedef struct impair {
    impair_cfg cfg;
    uint64_t rng;
    bool blackout;
    uint64_t blackout_until_us; /* 0: until impair_restore */
    uint64_t flap_since_us;
    impair_counts n;
} impair;

void impair_init(impair *im, uint64_t seed);
/* Flapping starts now, with the up half. up or down 0: no flapping. */
void impair_flap(impair *im, uint64_t now_us, uint32_t up_ms, uint32_t down_ms);
/* Everything is dropped from now for ms (0: until impair_restore). */
void impair_blackout(impair *im, uint64_t now_us, uint32_t ms);
/* Ends a blackout and flapping: the link is up again. */
void impair_restore(impair *im);
/* Whether packets get through at now (a blackout that ran out ends). */
bool impair_link_up(impair *im, uint64_t now_us);
/* The fate of a packet arriving at now; on IMPAIR_PASS *release_us is
 * when it leaves. Counted. */
impair_verdict impair_admit(impair *im, uint64_t now_us, uint64_t *release_us);
/* A packet due at now: still dropped if the link went down meanwhile (it
 * was on the wire when the link broke). Counted. */
impair_verdict impair_release(impair *im, uint64_t now_us);

#endif
