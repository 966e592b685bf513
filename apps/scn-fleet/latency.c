/* Publish-to-table delays for benchmarks (latency.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "station.h"
#include "latency.h"

int gs_latency_init(gs_latency *l)
{
    l->hist = calloc(LATENCY_BUCKETS + 1, sizeof(*l->hist));
    return l->hist ? 0 : -1;
}

void gs_latency_free(gs_latency *l)
{
    free(l->hist);
    l->hist = NULL;
}

void gs_latency_add(gs_latency *l, int64_t ts_ns, uint64_t now_ns)
{
    uint64_t bucket;

    if (ts_ns < 0) {
        l->missing++;
        return;
    }
    /* A publisher's clock ahead of ours reads as no delay. */
    bucket = (uint64_t)ts_ns < now_ns ? (now_ns - (uint64_t)ts_ns) / 100000 : 0;
    l->hist[bucket < LATENCY_BUCKETS ? bucket : LATENCY_BUCKETS]++;
    l->count++;
}

static double percentile(const gs_latency *l, double q)
{
    uint64_t want = (uint64_t)((double)l->count * q), seen = 0;

    for (size_t i = 0; i <= LATENCY_BUCKETS; i++) {
        seen += l->hist[i];
        if (seen > want)
            return (double)(i + 1) / 10.0; /* the bucket's upper edge */
    }
    return (double)LATENCY_BUCKETS / 10.0;
}

void gs_latency_report(const gs_latency *l)
{
    if (!l->count) {
        fprintf(stderr, P ": latency publish->table: no message had a ts\n");
        return;
    }
    fprintf(stderr,
            P ": latency publish->table: %llu messages, p50 %.1f ms, p99 "
              "%.1f ms (%llu without a ts)\n",
            (unsigned long long)l->count, percentile(l, 0.50),
            percentile(l, 0.99), (unsigned long long)l->missing);
}
