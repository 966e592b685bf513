/* Builders for the recording's cloud messages (cloud_json.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scentience/json_writer.h>

#include "cloud_json.h"
#include "fixed.h"

typedef struct out {
    char *buf;
    size_t cap, len;
    int full; /* something did not fit: the message is dropped whole */
} out;

/* Literal text: these messages are built per frame, so no printf.
 * Inline, so that a literal's length and copy are known where it is
 * put. */
static inline void put(out *o, const char *s)
{
    size_t n = strlen(s);

    if (o->full)
        return;
    if (n >= o->cap - o->len) {
        o->full = 1;
        return;
    }
    memcpy(o->buf + o->len, s, n + 1);
    o->len += n;
}

/* A decimal integer, as "%llu" and "%lld" write it. */
static void put_uint(out *o, const char *sign, unsigned long long u)
{
    char digits[24];

    digits[uint_text(digits, u)] = '\0';
    put(o, sign);
    put(o, digits);
}

static void put_int(out *o, long long v)
{
    if (v < 0)
        put_uint(o, "-", 0ULL - (unsigned long long)v);
    else
        put_uint(o, "", (unsigned long long)v);
}

/* A string or number piece (json_writer.h): written whole or not at all. */
static void fit(out *o, size_t n)
{
    if (n >= o->cap - o->len)
        o->full = 1;
    else
        o->len += n;
}

static void put_str(out *o, const char *s)
{
    if (!o->full)
        fit(o, scn_json_write_string(o->buf + o->len, o->cap - o->len, s,
                                     s ? strlen(s) : 0));
}

static void put_num(out *o, double x)
{
    if (!o->full)
        fit(o, scn_json_write_number(o->buf + o->len, o->cap - o->len, x));
}

static size_t done(out *o)
{
    if (o->full) {
        if (o->cap)
            o->buf[0] = '\0';
        return 0;
    }
    return o->len;
}

size_t cloud_inference_json(char *buf, size_t cap, const scn_cloud_result *r,
                            int64_t age_ms)
{
    out o = {buf, cap, 0, cap == 0};

    put(&o, "{\"model\":");
    put_str(&o, r->model ? r->model : "");
    put(&o, ",\"seq\":");
    put_uint(&o, "", r->seq);
    put(&o, ",\"labels\":[");
    for (size_t i = 0; i < r->label_count; i++) {
        put(&o, i ? ",{\"label\":" : "{\"label\":");
        put_str(&o, r->labels[i].label);
        put(&o, ",\"score\":");
        put_num(&o, r->labels[i].score);
        put(&o, "}");
    }
    put(&o, "]");
    if (r->has_target) {
        put(&o, ",\"target\":");
        put_str(&o, r->compound);
    }
    if (r->has_bearing) {
        put(&o, ",\"bearing_deg\":");
        put_num(&o, r->bearing_deg);
    }
    if (age_ms >= 0) {
        put(&o, ",\"age_ms\":");
        put_int(&o, age_ms);
    }
    put(&o, "}");
    return done(&o);
}

size_t cloud_record_json(char *buf, size_t cap, uint64_t seq,
                         const char *stream, const char *uid,
                         const char *timestamp, const char *state_json,
                         int64_t age_ms)
{
    out o = {buf, cap, 0, cap == 0};

    put(&o, "{\"seq\":");
    put_uint(&o, "", seq);
    put(&o, ",\"stream\":");
    put_str(&o, stream);
    put(&o, ",\"uid\":");
    put_str(&o, uid);
    put(&o, ",\"timestamp\":");
    put_str(&o, timestamp);
    /* The state is the JSON object the record carries, written as is. */
    if (state_json) {
        put(&o, ",\"state\":");
        put(&o, state_json);
        put(&o, ",\"age_ms\":");
        put_int(&o, age_ms);
    }
    put(&o, "}");
    return done(&o);
}

/* Doubles t (or gives it first bytes); -1 when memory runs out. Only a
 * message too long for the cap gives 0, so the callers' loops end. */
static int grow(cloud_text *t, size_t first)
{
    size_t cap = t->cap ? 2 * t->cap : first;
    char *p = realloc(t->buf, cap);

    if (p == NULL)
        return -1;
    t->buf = p;
    t->cap = cap;
    return 0;
}

size_t cloud_inference_text(cloud_text *t, const scn_cloud_result *r,
                            int64_t age_ms)
{
    size_t len;

    while ((len = cloud_inference_json(t->buf, t->cap, r, age_ms)) == 0)
        if (grow(t, 4096) != 0)
            return 0;
    return len;
}

size_t cloud_record_text(cloud_text *t, size_t first, uint64_t seq,
                         const char *stream, const char *uid,
                         const char *timestamp, const char *state_json,
                         int64_t age_ms)
{
    size_t len;

    while ((len = cloud_record_json(t->buf, t->cap, seq, stream, uid, timestamp,
                                    state_json, age_ms)) == 0)
        if (grow(t, first) != 0)
            return 0;
    return len;
}
