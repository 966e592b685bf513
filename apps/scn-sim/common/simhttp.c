#include "simhttp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simclock.h"

int sim_offers_protocol(const char *list, const char *name)
{
    size_t want = strlen(name);
    const char *p = list;

    while (*p) {
        const char *e;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        e = p;
        while (*e && *e != ',' && *e != ' ' && *e != '\t')
            e++;
        if ((size_t)(e - p) == want && !strncmp(p, name, want))
            return 1;
        p = e;
    }
    return 0;
}

ks_verdict sim_check_bearer(keystore *ks, struct lws *wsi, const char *peer,
                            ks_key **key, unsigned *retry_after, int *malformed)
{
    char auth[KS_KEY_MAX + 64];
    const char *k;
    size_t klen;
    ks_verdict v = KS_INVALID;
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);

    *key = NULL;
    *malformed = 1;
    if (n <= 0 || (size_t)n >= sizeof(auth))
        return KS_INVALID;
    n = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n >= 0 && !ks_bearer(auth, &k, &klen)) {
        v = ks_admit(ks, k, klen, peer, time(NULL), (double)sim_mono_us() / 1e6,
                     key, retry_after);
        *malformed = 0;
    }
    explicit_bzero(auth, sizeof(auth)); /* our copy at least */
    return v;
}

static const char *status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 413:
        return "Payload Too Large";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    default:
        return "Error";
    }
}

static int add_header(struct lws *wsi, const char *name, const char *value,
                      int n, unsigned char **p, unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, n, p, end);
}

static int write_body(struct lws *wsi, const char *body, size_t len)
{
    unsigned char *b = malloc(LWS_PRE + len);
    int w;

    if (!b)
        return -1;
    memcpy(b + LWS_PRE, body, len);
    w = lws_write(wsi, b + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
    free(b);
    return w < (int)len ? -1 : 0;
}

/* The status line is written by hand: lws_add_http_header_status() uses
 * the request's HTTP version, which lws 4.1 records only for plain HTTP
 * requests, so for an upgrade it would say "HTTP/1.0", which WebSocket
 * clients refuse to read. */
int sim_http_answer(struct lws *wsi, int status, const char *body,
                    const char *auth_desc, unsigned retry_after, int close)
{
    unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start,
                                       *end = buf + sizeof(buf) - 1;
    size_t blen = body ? strlen(body) : 0;
    char v[160];
    int n;

    n = snprintf(v, sizeof(v), "HTTP/1.1 %d %s", status, status_text(status));
    if (add_header(wsi, NULL, v, n, &p, end))
        return -1;
    if (status == 401) {
        n = snprintf(v, sizeof(v),
                     "Bearer error=\"invalid_token\", "
                     "error_description=\"%s\"",
                     auth_desc ? auth_desc : "invalid");
        if (add_header(wsi, "www-authenticate:", v, n, &p, end))
            return -1;
    }
    if (status == 429) {
        n = snprintf(v, sizeof(v), "%u", retry_after);
        if (add_header(wsi, "retry-after:", v, n, &p, end))
            return -1;
    }
    if (status == 426 && add_header(wsi, "upgrade:", "websocket", 9, &p, end))
        return -1;
    if (blen && lws_add_http_header_by_token(
                    wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                    (unsigned char *)"application/json", 16, &p, end))
        return -1;
    if (lws_add_http_header_content_length(wsi, blen, &p, end) ||
        (close &&
         lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                      (unsigned char *)"close", 5, &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    return blen ? write_body(wsi, body, blen) : 0;
}
