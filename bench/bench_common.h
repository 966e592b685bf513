/*
 * Helpers shared by the C benchmark programs in bench/: the command line
 * every client takes, clocks, resource usage, latency samples and the one
 * JSON result line. The Python and Node clients (bench/peers/) implement
 * the same command line and print the same line, so bench/run treats all
 * clients alike.
 */
#ifndef SCN_BENCH_COMMON_H
#define SCN_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The frame members the server stamps (bench_server.c). Monotonic clock:
 * CLOCK_MONOTONIC is one clock for every process on a Linux host, so
 * "receive minus send" needs no clock synchronisation. */
#define BENCH_SENT_KEY   "_bench_sent_ns"
#define BENCH_LISTEN_KEY "_bench_listen_ns"

typedef enum bench_mode {
    BENCH_INGEST = 0, /* count frames for --seconds after the first */
    BENCH_LATENCY,    /* also keep receive-minus-send per frame */
    BENCH_RECONNECT,  /* time from listen to first frame, per reconnect */
    BENCH_SLOW        /* sleep --sleep-us per frame, watch memory */
} bench_mode;

typedef struct bench_args {
    const char *url;
    bench_mode mode;
    double seconds;      /* measuring window, or hard limit (reconnect) */
    unsigned reconnects; /* reconnect mode: how many to observe */
    unsigned sleep_us;   /* slow mode: per-frame sleep in the callback */
    int manual_dispatch; /* libscentience only: queue + dispatch thread */
} bench_args;

/* Parses argv into a; prints usage and returns -1 on error. */
int bench_parse_args(int argc, char **argv, const char *prog, bench_args *a);

const char *bench_mode_name(bench_mode m);

int64_t bench_mono_ns(void);

/* User plus system CPU seconds of this process so far. */
double bench_cpu_s(void);

/* Peak and current resident set in KiB (/proc/self/status VmHWM, VmRSS). */
long bench_peak_rss_kib(void);
long bench_rss_kib(void);

/* Growing array of int64 samples (latencies, reconnect times), in ns. */
typedef struct bench_samples {
    int64_t *v;
    size_t n, cap;
} bench_samples;

void bench_samples_add(bench_samples *s, int64_t value);
void bench_samples_free(bench_samples *s);

/* Reads the integer value of "key": in a frame's text; -1 if absent. The
 * bare client uses this instead of a JSON parser: it is the ceiling. */
int64_t bench_find_int(const char *json, size_t len, const char *key);

/* What a client measured; bench_print_result() writes it as one JSON line
 * on stdout. Unused parts stay zero and are left out. */
typedef struct bench_result {
    const char *client;
    bench_mode mode;
    uint64_t frames;
    double seconds; /* from the first frame to the end of the window */
    double cpu_s;   /* CPU used over the same window */
    long rss_start_kib;
    long peak_rss_kib;
    bench_samples *latency;   /* latency mode */
    bench_samples *reconnect; /* reconnect mode */
    unsigned connections;
    const char *extra_json; /* appended members, e.g. ",\"x\":1"; or NULL */
} bench_result;

void bench_print_result(const bench_result *r);

#endif
