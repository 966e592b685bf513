/* A JSON object grown on the heap up to a limit (json_obj.h). */
#include "json_obj.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scentience/error.h>
#include <scentience/json_writer.h>

void json_obj_init(json_obj *o, size_t limit)
{
    memset(o, 0, sizeof(*o));
    o->limit = limit;
}

/* Room for n more bytes, keep bytes after them (the closing brace) and a
 * NUL, within the limit. Sets err (the first failure only) when not. */
static int room(json_obj *o, size_t n, size_t keep)
{
    size_t need, cap;
    char *p;

    if (n > o->limit || keep > o->limit - n || o->len > o->limit - n - keep ||
        o->len + n + keep == SIZE_MAX) {
        if (!o->err)
            o->err = SCN_ERR_MESSAGE_TOO_BIG;
        return 0;
    }
    need = o->len + n + keep + 1;
    if (need <= o->cap)
        return 1;
    cap = o->cap ? o->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (o->limit < SIZE_MAX && cap > o->limit + 1)
        cap = o->limit + 1;
    if (!(p = realloc(o->buf, cap))) {
        if (!o->err)
            o->err = SCN_ERR_NOMEM;
        return 0;
    }
    o->buf = p;
    o->cap = cap;
    return 1;
}

int json_obj_text(json_obj *o, const char *s)
{
    size_t n = strlen(s);

    if (o->err || !room(o, n, 0))
        return o->err;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
    return 0;
}

int json_obj_string(json_obj *o, const char *s)
{
    size_t n;

    if (!s || !*s)
        return json_obj_text(o, "null");
    n = scn_json_write_string(NULL, 0, s, strlen(s));
    if (o->err || !room(o, n, 0))
        return o->err;
    o->len +=
        scn_json_write_string(o->buf + o->len, o->cap - o->len, s, strlen(s));
    return 0;
}

void json_obj_begin(json_obj *o, size_t limit)
{
    json_obj_init(o, limit);
    /* The closing brace's room is kept from here on. */
    if (room(o, 1, 1)) {
        o->buf[o->len++] = '{';
        o->buf[o->len] = '\0';
        o->open = 1;
    }
}

/* Appends ,"key": when it and a value of vlen bytes fit; returns 0, having
 * noted the member as left out, when they do not. */
static int member(json_obj *o, const char *key, size_t vlen)
{
    size_t klen = scn_json_write_string(NULL, 0, key, strlen(key));
    size_t comma = o->members ? 1 : 0;

    if (!o->open || klen > SIZE_MAX / 2 || vlen > SIZE_MAX / 2 ||
        !room(o, comma + klen + 1 + vlen, 1)) {
        if (!o->left_out_count++) {
            o->left_out = key;
            o->left_out_bytes = vlen;
        }
        if (!o->err) /* not open: begin's failure has set it already */
            o->err = SCN_ERR_MESSAGE_TOO_BIG;
        return 0;
    }
    if (o->members++)
        o->buf[o->len++] = ',';
    o->len += scn_json_write_string(o->buf + o->len, o->cap - o->len, key,
                                    strlen(key));
    o->buf[o->len++] = ':';
    return 1;
}

void json_obj_str(json_obj *o, const char *key, const char *value)
{
    size_t vlen = scn_json_write_string(NULL, 0, value, strlen(value));

    if (!member(o, key, vlen))
        return;
    o->len += scn_json_write_string(o->buf + o->len, o->cap - o->len, value,
                                    strlen(value));
}

void json_obj_int(json_obj *o, const char *key, int64_t value)
{
    char num[32];
    int n = snprintf(num, sizeof(num), "%" PRId64, value);

    if (!member(o, key, (size_t)n))
        return;
    memcpy(o->buf + o->len, num, (size_t)n);
    o->len += (size_t)n;
    o->buf[o->len] = '\0';
}

void json_obj_raw(json_obj *o, const char *key, const char *json, size_t len)
{
    if (!member(o, key, len))
        return;
    memcpy(o->buf + o->len, json, len);
    o->len += len;
    o->buf[o->len] = '\0';
}

void json_obj_name_left_out(json_obj *o)
{
    const char *key = o->left_out;
    size_t bytes = o->left_out_bytes;
    int err = o->err;

    if (!o->open || !key)
        return;
    json_obj_str(o, "left_out", key);
    json_obj_int(o, "left_out_bytes", (int64_t)bytes);
    json_obj_str(o, "left_out_reason", scn_err_name(err));
}

void json_obj_say_incomplete(const json_obj *o, FILE *f, const char *what,
                             uint64_t incomplete, uint64_t held)
{
    fprintf(f, "\"%s\" record ", what);
    if (o->open && o->left_out)
        fprintf(f, "lost its \"%s\" (%zu bytes)", o->left_out,
                o->left_out_bytes);
    else
        fputs("was not recorded", f);
    fprintf(f, ": %s; %llu records incomplete", scn_strerror(o->err),
            (unsigned long long)incomplete);
    if (held)
        fprintf(f, " (%llu lines held back)", (unsigned long long)held);
    fputc('\n', f);
}

size_t json_obj_end(json_obj *o)
{
    if (!o->open)
        return 0;
    o->buf[o->len++] = '}';
    o->buf[o->len] = '\0';
    o->open = 0;
    return o->len;
}

void json_obj_free(json_obj *o)
{
    free(o->buf);
    o->buf = NULL;
    o->len = o->cap = 0;
    o->open = 0;
}
