/*
 * The envelope of every fleet message. The "data" member is handed on
 * byte for byte (the recording holds what the companion recorded), so
 * its span in the payload is found by a small scanner over text the
 * strict parse has already accepted, rather than by printing the tree
 * again.
 */
#include <string.h>

#include <scentience/error.h>

#include "envelope.h"
#include "frame_internal.h"

#define MAX_SAFE_INT 9007199254740992.0 /* 2^53 */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Past the string that starts at p (at its '"'). */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end && *p != '"'; p++)
        if (*p == '\\')
            p++;
    return p < end ? p + 1 : end;
}

/* Past the value that starts at p. */
static const char *skip_value(const char *p, const char *end)
{
    int depth = 0;

    do {
        if (p >= end)
            return end;
        if (*p == '"') {
            p = skip_string(p, end);
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if (*p == '}' || *p == ']')
            depth--;
        else if (depth == 0) {
            /* A number or a literal: up to a delimiter. */
            while (p < end && !strchr(",}] \t\r\n", *p))
                p++;
            return p;
        }
        p++;
    } while (depth > 0);
    return p;
}

int scn__json_member_span(const char *json, size_t len, const char *key,
                          const char **start, size_t *vlen)
{
    const char *p = json, *end = json + len, *k, *v;
    size_t klen = strlen(key);

    p = skip_ws(p, end);
    if (p >= end || *p != '{')
        return -1;
    p++;
    for (;;) {
        p = skip_ws(p, end);
        if (p >= end || *p != '"')
            return -1;
        k = p + 1;
        p = skip_string(p, end);
        /* The key as written: an escaped spelling of it is not found. */
        int match = (size_t)(p - 1 - k) == klen && memcmp(k, key, klen) == 0;
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return -1;
        v = skip_ws(p + 1, end);
        p = skip_value(v, end);
        if (match) {
            *start = v;
            *vlen = (size_t)(p - v);
            return 0;
        }
        p = skip_ws(p, end);
        if (p >= end || *p != ',')
            return -1;
        p++;
    }
}

static int integer(const cJSON *n, int64_t *out)
{
    double v;

    if (!cJSON_IsNumber(n))
        return -1;
    v = n->valuedouble;
    if (!(v >= 0 && v <= MAX_SAFE_INT) || v != (double)(int64_t)v)
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* ts is nanoseconds since the epoch, beyond a double's 2^53: read from
 * the text, digits only, up to 2^63 - 1. */
static int ts_exact(const char *payload, size_t len, const cJSON *ts,
                    int64_t *out)
{
    const char *v;
    size_t n;
    uint64_t x = 0;

    if (!cJSON_IsNumber(ts) ||
        scn__json_member_span(payload, len, "ts", &v, &n) != 0 || n == 0 ||
        n > 19)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (x > (uint64_t)INT64_MAX)
        return -1;
    *out = (int64_t)x;
    return 0;
}

int scn__envelope_parse(const char *payload, size_t len, scn_envelope *env)
{
    const cJSON *seq, *run, *ts;
    int rc;

    memset(env, 0, sizeof(*env));
    env->seq = env->ts_ns = -1;
    rc = scn__frame_json_parse(payload, len, &env->doc);
    if (rc)
        return rc == SCN_ERR_NOMEM ? rc : SCN_ERR_MALFORMED;
    rc = SCN_ERR_MALFORMED;
    if (!cJSON_IsObject(env->doc))
        goto bad;
    env->data = cJSON_GetObjectItemCaseSensitive(env->doc, "data");
    seq = cJSON_GetObjectItemCaseSensitive(env->doc, "seq");
    run = cJSON_GetObjectItemCaseSensitive(env->doc, "run");
    ts = cJSON_GetObjectItemCaseSensitive(env->doc, "ts");
    if (!cJSON_IsObject(env->data) || (seq && integer(seq, &env->seq)) ||
        (ts && ts_exact(payload, len, ts, &env->ts_ns)))
        goto bad;
    if (run) {
        if (!cJSON_IsString(run) ||
            strlen(run->valuestring) > SCN_FLEET_RUN_MAX)
            goto bad;
        strcpy(env->run, run->valuestring);
    }
    if (scn__json_member_span(payload, len, "data", &env->data_text,
                              &env->data_len) != 0)
        goto bad;
    return 0;
bad:
    scn__envelope_free(env);
    return rc;
}

void scn__envelope_free(scn_envelope *env)
{
    cJSON_Delete(env->doc);
    env->doc = NULL;
    env->data = NULL;
}
