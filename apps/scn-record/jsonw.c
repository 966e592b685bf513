/* JSON and CSV writing helpers for scn-record. */
#include "jsonw.h"

#include <inttypes.h>
#include <string.h>

/* Escaped length of s, and the escaped text when out is not NULL. */
static size_t escape(char *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char e = 0;

        switch (c) {
        case '"':
            e = '"';
            break;
        case '\\':
            e = '\\';
            break;
        case '\n':
            e = 'n';
            break;
        case '\r':
            e = 'r';
            break;
        case '\t':
            e = 't';
            break;
        }
        if (e) {
            if (out) {
                out[n] = '\\';
                out[n + 1] = e;
            }
            n += 2;
        } else if (c < 0x20) {
            if (out)
                memcpy(out + n,
                       (char[]){'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]},
                       6);
            n += 6;
        } else {
            if (out)
                out[n] = (char)c;
            n++;
        }
    }
    return n;
}

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
    size_t klen = escape(NULL, key, strlen(key));
    size_t need = (b->members ? 1 : 0) + klen + 3 + vlen + 2;

    if (b->cap < 3 || b->cap - b->len < need)
        return 0;
    if (b->members++)
        b->buf[b->len++] = ',';
    b->buf[b->len++] = '"';
    b->len += escape(b->buf + b->len, key, strlen(key));
    b->buf[b->len++] = '"';
    b->buf[b->len++] = ':';
    return 1;
}

void jb_str(jb *b, const char *key, const char *value)
{
    size_t vlen = escape(NULL, value, strlen(value));

    if (!member(b, key, vlen + 2))
        return;
    b->buf[b->len++] = '"';
    b->len += escape(b->buf + b->len, value, strlen(value));
    b->buf[b->len++] = '"';
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
    char chunk[6 * 64];

    fputc('"', f);
    /* In pieces, so that a long string needs no allocation. */
    while (len) {
        size_t n = len < 64 ? len : 64;

        fwrite(chunk, 1, escape(chunk, s, n), f);
        s += n;
        len -= n;
    }
    fputc('"', f);
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
