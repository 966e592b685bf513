/*
 * HTTP request heads (lib/server/http_request.c), what anyone who can reach the
 * live listener sends first. The first byte sets the size of the pieces
 * the head is fed in: the verdict and the parse must not depend on it. An
 * accepted head is written back from its parts and must read the same;
 * the field, query and cookie look-ups stay within their buffers.
 */
#include "fuzz.h"

#include "http_request.h"

/* Feeds data in pieces of step bytes (0: all at once). Returns the
 * verdict; *used is how many bytes belonged to the head. */
static int feed(scn_http_request *r, const uint8_t *data, size_t size,
                size_t step, size_t *used)
{
    size_t at = 0;
    int rc = 0;

    *used = 0;
    do {
        size_t n = step && size - at > step ? step : size - at, u = 0;
        rc = scn__http_request_feed(r, data + at, n, &u);
        FUZZ_CHECK(u <= n, "used %zu of %zu", u, n);
        *used += u;
        at += n;
        if (rc != 0)
            break;
    } while (at < size);
    return rc;
}

static void check_same(const scn_http_request *a, const scn_http_request *b)
{
    FUZZ_CHECK(strcmp(a->method, b->method) == 0 &&
                   strcmp(a->path, b->path) == 0 && a->minor == b->minor &&
                   (a->query == NULL) == (b->query == NULL) &&
                   (!a->query || strcmp(a->query, b->query) == 0) &&
                   a->nfields == b->nfields,
               "request line or field count differs");
    for (size_t i = 0; i < a->nfields; i++)
        FUZZ_CHECK(strcmp(a->fields[i].name, b->fields[i].name) == 0 &&
                       strcmp(a->fields[i].value, b->fields[i].value) == 0,
                   "field %zu differs", i);
}

static void check_parts(const scn_http_request *r)
{
    char out[64];
    int n;

    FUZZ_CHECK(r->method[0] && r->path[0] == '/', "method or path");
    FUZZ_CHECK(r->nfields <= SCN_HTTP_FIELDS_MAX, "fields");
    for (size_t i = 0; i < r->nfields; i++) {
        const char *v = r->fields[i].value;
        size_t vn = strlen(v);
        FUZZ_CHECK(r->fields[i].name[0] != '\0', "empty field name");
        FUZZ_CHECK(vn == 0 || (v[0] != ' ' && v[0] != '\t' &&
                               v[vn - 1] != ' ' && v[vn - 1] != '\t'),
                   "value not trimmed");
        for (const char *c = v; *c; c++)
            FUZZ_CHECK((unsigned char)*c >= 0x20 || *c == '\t',
                       "control byte in a value");
        FUZZ_CHECK(scn__http_field_get(r, r->fields[i].name) != NULL,
                   "field %s not found", r->fields[i].name);
    }
    if (r->query) {
        n = scn__http_query_get(r->query, "token", out, sizeof out);
        FUZZ_CHECK(n < (int)sizeof out && (n < 0 || out[n] == '\0'),
                   "query value");
    }
    if (scn__http_field_get(r, "cookie")) {
        n = scn__http_cookie_get(scn__http_field_get(r, "cookie"), "token", out,
                                 sizeof out);
        FUZZ_CHECK(n < (int)sizeof out && (n < 0 || out[n] == '\0'),
                   "cookie value");
    }
    (void)scn__http_field_has(r, "connection", "upgrade");
}

/* The head written back from its parts. */
static size_t write_head(const scn_http_request *r, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "%s %s%s%s HTTP/1.%d\r\n", r->method,
                                r->path, r->query ? "?" : "",
                                r->query ? r->query : "", r->minor);

    for (size_t i = 0; i < r->nfields && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s: %s\r\n", r->fields[i].name,
                              r->fields[i].value);
    if (n < cap)
        n += (size_t)snprintf(out + n, cap - n, "\r\n");
    FUZZ_CHECK(n < cap, "head too long to write back");
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    size_t step = (size_t)fuzz_take(&in, 1) % 17;
    scn_http_request a, b, c;
    size_t used_a, used_b, used_c, n;
    int ra, rb, rc;
    char *head;

    scn__http_request_init(&a);
    scn__http_request_init(&b);
    scn__http_request_init(&c);
    ra = feed(&a, in.p, in.n, 0, &used_a);
    rb = feed(&b, in.p, in.n, step, &used_b);
    FUZZ_CHECK(ra == rb, "whole: %d, in pieces of %zu: %d", ra, step, rb);
    FUZZ_CHECK(ra == 0 || ra == 1 || ra == 400 || ra == 431 || ra == 505 ||
                   ra == 413,
               "verdict %d", ra);
    if (ra == 1) {
        FUZZ_CHECK(used_a == used_b && a.complete && b.complete,
                   "head of %zu bytes whole, %zu in pieces", used_a, used_b);
        check_same(&a, &b);
        check_parts(&a);
        head = malloc(SCN_HTTP_HEAD_MAX * 2);
        FUZZ_CHECK(head != NULL, "out of memory");
        n = write_head(&a, head, SCN_HTTP_HEAD_MAX * 2);
        rc = feed(&c, (const uint8_t *)head, n, 0, &used_c);
        FUZZ_CHECK(rc == 1 && used_c == n, "written back (%zu bytes): %d", n,
                   rc);
        check_same(&a, &c);
        free(head);
    }
    scn__http_request_free(&c);
    scn__http_request_free(&b);
    scn__http_request_free(&a);
    return 0;
}
