/* Shared helpers of the C benchmark programs; see bench_common.h. */
#include "bench_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s --url ws://HOST:PORT/ [--mode MODE] [options]\n"
            "  --mode ingest|latency|reconnect|slow  (default ingest)\n"
            "  --seconds S      measuring window after the first frame;\n"
            "                   reconnect: hard limit (default 3)\n"
            "  --reconnects N   reconnect: reconnects to observe (50)\n"
            "  --sleep-us U     slow: sleep per frame in the callback "
            "(1000)\n"
            "  --manual         libscentience: manual dispatch (bounded\n"
            "                   inbound queue, callbacks on another thread)\n"
            "Prints one JSON line with what was measured.\n",
            prog);
}

static int number(const char *s, double min, double max, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= min && v <= max))
        return -1;
    *out = v;
    return 0;
}

int bench_parse_args(int argc, char **argv, const char *prog, bench_args *a)
{
    double v;

    memset(a, 0, sizeof(*a));
    a->seconds = 3;
    a->reconnects = 50;
    a->sleep_us = 1000;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;

        if (!strcmp(o, "--manual")) {
            a->manual_dispatch = 1;
            continue;
        }
        if (!strcmp(o, "--help")) {
            usage(stdout, prog);
            exit(0);
        }
        if (!arg)
            goto bad;
        i++;
        if (!strcmp(o, "--url")) {
            a->url = arg;
        } else if (!strcmp(o, "--mode")) {
            if (!strcmp(arg, "ingest"))
                a->mode = BENCH_INGEST;
            else if (!strcmp(arg, "latency"))
                a->mode = BENCH_LATENCY;
            else if (!strcmp(arg, "reconnect"))
                a->mode = BENCH_RECONNECT;
            else if (!strcmp(arg, "slow"))
                a->mode = BENCH_SLOW;
            else
                goto bad;
        } else if (!strcmp(o, "--seconds")) {
            if (number(arg, 0.01, 3600, &a->seconds))
                goto bad;
        } else if (!strcmp(o, "--reconnects")) {
            if (number(arg, 1, 100000, &v))
                goto bad;
            a->reconnects = (unsigned)v;
        } else if (!strcmp(o, "--sleep-us")) {
            if (number(arg, 0, 1e6, &v))
                goto bad;
            a->sleep_us = (unsigned)v;
        } else {
            goto bad;
        }
    }
    if (a->url)
        return 0;
bad:
    usage(stderr, prog);
    return -1;
}

const char *bench_mode_name(bench_mode m)
{
    static const char *const names[] = {"ingest", "latency", "reconnect",
                                        "slow"};
    return names[m];
}

int64_t bench_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double bench_cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static long status_kib(const char *field)
{
    char line[256];
    size_t n = strlen(field);
    long kib = -1;
    FILE *f = fopen("/proc/self/status", "r");

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, field, n) && line[n] == ':') {
            kib = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

long bench_peak_rss_kib(void)
{
    return status_kib("VmHWM");
}

long bench_rss_kib(void)
{
    return status_kib("VmRSS");
}

void bench_samples_add(bench_samples *s, int64_t value)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        int64_t *v = realloc(s->v, cap * sizeof(*v));

        if (!v)
            return; /* a lost sample is better than a lost run */
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = value;
}

void bench_samples_free(bench_samples *s)
{
    free(s->v);
    memset(s, 0, sizeof(*s));
}

int64_t bench_find_int(const char *json, size_t len, const char *key)
{
    size_t k = strlen(key);
    const char *p = json, *end = json + len;

    while ((size_t)(end - p) > k + 3) {
        const char *q = memchr(p, '"', (size_t)(end - p) - k - 3);

        if (!q)
            return -1;
        if (!memcmp(q + 1, key, k) && q[k + 1] == '"' && q[k + 2] == ':') {
            int64_t v = 0;

            for (q += k + 3; q < end && *q >= '0' && *q <= '9'; q++)
                v = v * 10 + (*q - '0');
            return v;
        }
        p = q + 1;
    }
    return -1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples. */
static int64_t pct(const bench_samples *s, double p)
{
    size_t rank = (size_t)(p / 100.0 * (double)s->n + 0.999999);

    if (rank < 1)
        rank = 1;
    if (rank > s->n)
        rank = s->n;
    return s->v[rank - 1];
}

static void print_dist(const char *name, bench_samples *s, double unit,
                       int with_samples)
{
    printf(",\"%s\":{\"n\":%zu", name, s->n);
    if (s->n) {
        qsort(s->v, s->n, sizeof(*s->v), cmp_i64);
        printf(",\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f",
               (double)pct(s, 50) / unit, (double)pct(s, 90) / unit,
               (double)pct(s, 99) / unit, (double)s->v[s->n - 1] / unit);
    }
    if (with_samples) {
        printf(",\"samples\":[");
        for (size_t i = 0; i < s->n; i++)
            printf("%s%.3f", i ? "," : "", (double)s->v[i] / unit);
        printf("]");
    }
    printf("}");
}

void bench_print_result(const bench_result *r)
{
    printf("{\"client\":\"%s\",\"mode\":\"%s\",\"frames\":%llu,"
           "\"seconds\":%.6f,\"cpu_s\":%.6f,\"rss_start_kib\":%ld,"
           "\"peak_rss_kib\":%ld,\"connections\":%u",
           r->client, bench_mode_name(r->mode), (unsigned long long)r->frames,
           r->seconds, r->cpu_s, r->rss_start_kib, r->peak_rss_kib,
           r->connections);
    if (r->latency)
        print_dist("latency_us", r->latency, 1e3, 0);
    if (r->reconnect)
        print_dist("reconnect_ms", r->reconnect, 1e6, 1);
    if (r->extra_json)
        fputs(r->extra_json, stdout);
    printf("}\n");
    fflush(stdout);
}
