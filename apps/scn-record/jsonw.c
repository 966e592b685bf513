/* JSON and CSV writing helpers for scn-record. */
#include "jsonw.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <scentience/json_writer.h>

void jb_begin(jb *b, char *buf, size_t cap)
{
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
    b->members = 0;
    if (cap > 2)
        b->buf[b->len++] = '{';
}

/* Appends ,"key": when key and a value of vlen bytes fit with the closing
 * brace and NUL; returns 0 when they do not. */
static int member(jb *b, const char *key, size_t vlen)
{
    size_t klen = scn_json_write_string(NULL, 0, key, strlen(key));
    size_t need = (b->members ? 1 : 0) + klen + 1 + vlen + 2;

    if (b->cap < 3 || b->cap - b->len < need)
        return 0;
    if (b->members++)
        b->buf[b->len++] = ',';
    b->len += scn_json_write_string(b->buf + b->len, b->cap - b->len, key,
                                    strlen(key));
    b->buf[b->len++] = ':';
    return 1;
}

void jb_str(jb *b, const char *key, const char *value)
{
    size_t vlen = scn_json_write_string(NULL, 0, value, strlen(value));

    if (!member(b, key, vlen))
        return;
    b->len += scn_json_write_string(b->buf + b->len, b->cap - b->len, value,
                                    strlen(value));
}

void jb_int(jb *b, const char *key, int64_t value)
{
    char num[32];
    int n = snprintf(num, sizeof(num), "%" PRId64, value);

    if (!member(b, key, (size_t)n))
        return;
    memcpy(b->buf + b->len, num, (size_t)n);
    b->len += (size_t)n;
}

void jb_raw(jb *b, const char *key, const char *json, size_t len)
{
    if (!member(b, key, len))
        return;
    memcpy(b->buf + b->len, json, len);
    b->len += len;
}

size_t jb_end(jb *b)
{
    if (b->cap > 2) {
        b->buf[b->len++] = '}';
        b->buf[b->len] = '\0';
    }
    return b->len;
}

void json_put_string(FILE *f, const char *s, size_t len)
{
    char small[512], *buf = small;
    size_t n = scn_json_write_string(NULL, 0, s, len);

    /* Whole, so that no UTF-8 sequence is cut between two pieces. */
    if (n >= sizeof(small) && (buf = malloc(n + 1)) == NULL) {
        fputs("null", f);
        fputs("scn-record: out of memory: a string written as null\n", stderr);
        return;
    }
    scn_json_write_string(buf, n + 1, s, len);
    fwrite(buf, 1, n, f);
    if (buf != small)
        free(buf);
}

void csv_put_cell(FILE *f, const char *s, size_t len)
{
    if (!memchr(s, ',', len) && !memchr(s, '"', len) && !memchr(s, '\n', len) &&
        !memchr(s, '\r', len)) {
        fwrite(s, 1, len, f);
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}
