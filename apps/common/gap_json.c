/* The discontinuity event and sentence; see gap_json.h. */
#include "gap_json.h"

#include <stdarg.h>
#include <stdio.h>

#include <scentience/frame.h>

/* Appends to buf at *at; false once it no longer fits. */
static int put(char *buf, size_t cap, size_t *at, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*at >= cap)
        return 0;
    va_start(ap, fmt);
    n = vsnprintf(buf + *at, cap - *at, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap - *at) {
        *at = cap;
        return 0;
    }
    *at += (size_t)n;
    return 1;
}

static void put_time(char *buf, size_t cap, size_t *at, const char *name,
                     int64_t ns)
{
    char ts[48];

    if (ns && scn_timestamp_format(ns, ts, sizeof(ts)) == 0)
        put(buf, cap, at, ",\"%s\":\"%s\"", name, ts);
}

void gap_sentence(char *buf, size_t cap, const scn_discontinuity *d)
{
    snprintf(buf, cap,
             "stream discontinuous: %.1f s without frames across %u "
             "reconnect%s (SEQ restarts per connection: not counted as seq "
             "gaps)",
             (double)d->gap_ms / 1000.0, d->reconnects,
             d->reconnects == 1 ? "" : "s");
}

size_t gap_event_json(char *buf, size_t cap, const char *source,
                      const scn_discontinuity *d)
{
    char sentence[160];
    size_t at = 0;

    gap_sentence(sentence, sizeof(sentence), d);
    /* source and the sentence are ours: no escaping needed. */
    put(buf, cap, &at,
        "{\"event\":\"discontinuity\",\"source\":\"%s\",\"gap_ms\":%u,"
        "\"reconnects\":%u",
        source, d->gap_ms, d->reconnects);
    if (d->last_seq)
        put(buf, cap, &at, ",\"last_seq\":%llu",
            (unsigned long long)d->last_seq);
    if (d->first_seq)
        put(buf, cap, &at, ",\"first_seq\":%llu",
            (unsigned long long)d->first_seq);
    put_time(buf, cap, &at, "last_timestamp", d->last_ns);
    put_time(buf, cap, &at, "first_timestamp", d->first_ns);
    if (!put(buf, cap, &at, ",\"detail\":\"%s\"}", sentence))
        return 0;
    return at;
}
