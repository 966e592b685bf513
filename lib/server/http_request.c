/* HTTP/1.1 request heads: reading, parsing in place, field look-ups. */
#include "http_request.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FIRST_CAP 1024

void scn__http_request_init(scn_http_request *r)
{
    memset(r, 0, sizeof(*r));
}

void scn__http_request_free(scn_http_request *r)
{
    free(r->buf);
    memset(r, 0, sizeof(*r));
}

void scn__http_request_reset(scn_http_request *r)
{
    char *buf = r->buf;
    size_t cap = r->cap;

    memset(r, 0, sizeof(*r));
    r->buf = buf;
    r->cap = cap;
}

static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c);
}

static char *trim(char *s, char *e)
{
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *e = '\0';
    return s;
}

/* Splits the complete head (buf[0..len), ending in CRLF CRLF). */
static int parse(scn_http_request *r)
{
    char *p = r->buf, *end = r->buf + r->len - 2, *eol, *sp1, *sp2;

    /* Request line: method SP target SP HTTP/1.x */
    eol = strstr(p, "\r\n");
    *eol = '\0';
    sp1 = strchr(p, ' ');
    if (!sp1)
        return 400;
    sp2 = strchr(sp1 + 1, ' ');
    if (!sp2 || strchr(sp2 + 1, ' '))
        return 400;
    *sp1 = *sp2 = '\0';
    r->method = p;
    r->target = sp1 + 1;
    for (const char *m = r->method; *m; m++)
        if (!is_tchar(*m))
            return 400;
    if (!*r->method || r->target[0] != '/')
        return 400;
    if (strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp2[8] < '0' || sp2[8] > '9' ||
        sp2[9])
        return strncmp(sp2 + 1, "HTTP/", 5) == 0 ? 505 : 400;
    r->minor = sp2[8] - '0';
    for (const char *t = r->target; *t; t++)
        if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7F)
            return 400;
    p = eol + 2;
    while (p < end) {
        char *colon, *name;

        eol = strstr(p, "\r\n");
        *eol = '\0';
        if (*p == ' ' || *p == '\t') /* obsolete line folding */
            return 400;
        colon = strchr(p, ':');
        if (!colon || colon == p)
            return 400;
        name = p;
        for (char *c = name; c < colon; c++)
            if (!is_tchar(*c))
                return 400;
        *colon = '\0';
        for (char *c = colon + 1; c < eol; c++)
            if ((unsigned char)*c < 0x20 && *c != '\t')
                return 400;
        if (r->nfields == SCN_HTTP_FIELDS_MAX)
            return 431;
        r->fields[r->nfields].name = name;
        r->fields[r->nfields].value = trim(colon + 1, eol);
        r->nfields++;
        p = eol + 2;
    }
    if (scn__http_field_get(r, "transfer-encoding"))
        return 413;
    {
        const char *cl = scn__http_field_get(r, "content-length");

        if (cl && strspn(cl, "0") != strlen(cl))
            return 413;
    }
    return 0;
}

int scn__http_request_feed(scn_http_request *r, const void *in, size_t n,
                           size_t *used)
{
    const char *src = in;
    size_t from, take, i;
    int rc;

    *used = 0;
    if (r->complete)
        return 1;
    /* Byte by byte up to the end of the head: never more, so what follows
     * stays with the caller. Heads are small and rare. */
    from = r->len >= 3 ? r->len - 3 : 0;
    take = n;
    if (r->len + take > SCN_HTTP_HEAD_MAX)
        take = SCN_HTTP_HEAD_MAX - r->len;
    if (r->len + take + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : FIRST_CAP;
        char *nb;

        while (cap < r->len + take + 1)
            cap *= 2;
        if (cap > SCN_HTTP_HEAD_MAX + 1)
            cap = SCN_HTTP_HEAD_MAX + 1;
        nb = realloc(r->buf, cap);
        if (!nb)
            return 500;
        r->buf = nb;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, src, take);
    r->len += take;
    r->buf[r->len] = '\0';
    for (i = from; i + 4 <= r->len; i++) {
        if (memcmp(r->buf + i, "\r\n\r\n", 4) == 0)
            break;
    }
    if (i + 4 > r->len) {
        *used = take;
        if (r->len >= SCN_HTTP_HEAD_MAX)
            return 431;
        return 0;
    }
    /* Give back what follows the head. */
    *used = take - (r->len - (i + 4));
    r->len = i + 4;
    r->buf[r->len] = '\0';
    if (memchr(r->buf, '\0', r->len))
        return 400;
    rc = parse(r);
    if (rc)
        return rc;
    /* The path is the target cut at '?'; the query follows it. */
    {
        char *q = strchr((char *)r->target, '?');

        r->path = r->target;
        if (q) {
            *q = '\0';
            r->query = q + 1;
        }
    }
    r->complete = true;
    return 1;
}

const char *scn__http_field_get(const scn_http_request *r, const char *name)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (strcasecmp(r->fields[i].name, name) == 0)
            return r->fields[i].value;
    return NULL;
}

bool scn__http_list_has(const char *list, const char *token)
{
    size_t tn = strlen(token);
    const char *p = list;

    while (p && *p) {
        size_t n;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        n = strcspn(p, ",");
        /* Trailing whitespace of the element. */
        size_t m = n;
        while (m && (p[m - 1] == ' ' || p[m - 1] == '\t'))
            m--;
        if (m == tn && strncasecmp(p, token, tn) == 0)
            return true;
        p += n;
    }
    return false;
}

bool scn__http_field_has(const scn_http_request *r, const char *name,
                         const char *token)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (strcasecmp(r->fields[i].name, name) == 0 &&
            scn__http_list_has(r->fields[i].value, token))
            return true;
    return false;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int scn__http_query_get(const char *query, const char *name, char *out,
                        size_t cap)
{
    size_t nn = strlen(name);
    const char *p = query;

    while (p && *p) {
        size_t n = strcspn(p, "&");

        if (n > nn && strncmp(p, name, nn) == 0 && p[nn] == '=') {
            size_t o = 0;

            for (size_t i = nn + 1; i < n; i++) {
                int c = (unsigned char)p[i];

                if (c == '%') {
                    int h, l;

                    if (i + 2 >= n)
                        return -1;
                    h = hexval(p[i + 1]);
                    l = hexval(p[i + 2]);
                    if (h < 0 || l < 0)
                        return -1;
                    c = h * 16 + l;
                    i += 2;
                } else if (c == '+') {
                    c = ' ';
                }
                if (o + 1 >= cap)
                    return -1;
                out[o++] = (char)c;
            }
            out[o] = '\0';
            return (int)o;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    return -1;
}

int scn__http_cookie_get(const char *cookie, const char *name, char *out,
                         size_t cap)
{
    size_t nn = strlen(name);
    const char *p = cookie;

    while (p && *p) {
        size_t n;

        while (*p == ' ' || *p == ';')
            p++;
        n = strcspn(p, ";");
        if (n > nn && strncmp(p, name, nn) == 0 && p[nn] == '=') {
            size_t vn = n - nn - 1;

            while (vn && p[nn + 1 + vn - 1] == ' ')
                vn--;
            if (vn + 1 > cap)
                return -1;
            memcpy(out, p + nn + 1, vn);
            out[vn] = '\0';
            return (int)vn;
        }
        p += n;
    }
    return -1;
}
