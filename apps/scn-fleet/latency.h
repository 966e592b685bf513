/*
 * --latency, for benchmarks: the delay from each message's envelope ts
 * (ns since the epoch; the publish time when the publisher is the load
 * generator, bench/fleet_load.c) to the moment the message is in the
 * model (the table), as a histogram of 0.1 ms buckets up to 10 s; p50 and
 * p99 at the end.
 */
#ifndef SCN_FLEET_LATENCY_H
#define SCN_FLEET_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#define LATENCY_BUCKETS 100000 /* 0.1 ms each: up to 10 s */

typedef struct gs_latency {
    int on;
    uint32_t *hist; /* LATENCY_BUCKETS + 1 (the last: beyond) */
    uint64_t count, missing;
} gs_latency;

int gs_latency_init(gs_latency *l);
void gs_latency_free(gs_latency *l);
/* One message: its ts (-1: none) against now_ns. */
void gs_latency_add(gs_latency *l, int64_t ts_ns, uint64_t now_ns);
/* "scn-fleet: latency publish->table: N messages, p50 X ms, p99 Y ms". */
void gs_latency_report(const gs_latency *l);

#endif
