/* Dashboard token, Origin and Host checks. */
#include "http_access.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "peer_allow.h"

bool scn__token_format_ok(const char *t, size_t n)
{
    if (n < SCN_TOKEN_MIN || n > SCN_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' ||
              c == '-'))
            return false;
    }
    return true;
}

void scn__http_access_init(scn_http_access *a, const char *token,
                           const char *const *origins, size_t norigins,
                           bool tls, int port)
{
    memset(a, 0, sizeof(*a));
    a->token = token;
    a->origins = origins;
    a->norigins = norigins;
    a->tls = tls;
    /* Cookies are not kept apart by port: two servers on one host must
     * not overwrite each other's. */
    snprintf(a->cookie_name, sizeof(a->cookie_name), "scn_token_%d", port);
}

/* Compares in time that depends on the lengths only. */
static bool same_secret(const char *a, size_t an, const char *b, size_t bn)
{
    unsigned char d = an != bn;

    for (size_t i = 0; i < an && i < bn; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

bool scn__http_host_is_literal(const char *host)
{
    char name[80];
    scn_ip_addr ip;
    size_t n;

    if (!host)
        return false;
    if (host[0] == '[') { /* [v6]:port */
        const char *e = strchr(host, ']');

        if (!e || (e[1] && e[1] != ':'))
            return false;
        n = (size_t)(e - host - 1);
        if (n >= sizeof(name))
            return false;
        memcpy(name, host + 1, n);
    } else {
        n = strcspn(host, ":");
        if (n >= sizeof(name))
            return false;
        memcpy(name, host, n);
    }
    name[n] = '\0';
    return strcasecmp(name, "localhost") == 0 || scn__ip_parse(name, &ip) == 0;
}

/* The token presented, checked: -1 wrong, 0 none, else where from. */
static int presented(const scn_http_access *a, const scn_http_request *r)
{
    char buf[SCN_TOKEN_MAX + 2];
    size_t tn = strlen(a->token);
    const char *auth = scn__http_field_get(r, "authorization");
    int n;

    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        const char *t = auth + 7;

        while (*t == ' ')
            t++;
        return same_secret(t, strlen(t), a->token, tn) ? SCN_TOKEN_HEADER : -1;
    }
    n = r->query ? scn__http_query_get(r->query, "token", buf, sizeof(buf))
                 : -1;
    if (n >= 0)
        return same_secret(buf, (size_t)n, a->token, tn) ? SCN_TOKEN_QUERY : -1;
    /* Several Cookie fields are allowed (HTTP/2 splits them). */
    for (size_t i = 0; i < r->nfields; i++) {
        if (strcasecmp(r->fields[i].name, "cookie") != 0)
            continue;
        n = scn__http_cookie_get(r->fields[i].value, a->cookie_name, buf,
                                 sizeof(buf));
        if (n >= 0)
            return same_secret(buf, (size_t)n, a->token, tn) ? SCN_TOKEN_COOKIE
                                                             : -1;
    }
    return SCN_TOKEN_NONE;
}

static bool own_origin(const scn_http_access *a, const char *origin,
                       const char *host)
{
    const char *scheme = a->tls ? "https://" : "http://";
    size_t sn = strlen(scheme);

    return host && strncasecmp(origin, scheme, sn) == 0 &&
           strcasecmp(origin + sn, host) == 0;
}

void scn__http_access_check(const scn_http_access *a, const scn_http_request *r,
                            bool peer_loopback, scn_access_verdict *out)
{
    const char *origin = scn__http_field_get(r, "origin");
    const char *host = scn__http_field_get(r, "host");
    bool listed = false;

    memset(out, 0, sizeof(*out));
    if (a->token) {
        out->token_via = presented(a, r);
        if (out->token_via < 0) {
            out->token_via = SCN_TOKEN_NONE;
            out->status = 401;
            out->why = "wrong dashboard token";
            return;
        }
        if (out->token_via == SCN_TOKEN_NONE && !peer_loopback) {
            out->status = 401;
            out->why = "a dashboard token is required off loopback";
            return;
        }
    }
    if (!origin)
        return;
    for (size_t i = 0; i < a->norigins; i++)
        listed = listed || strcasecmp(origin, a->origins[i]) == 0;
    if (!listed && !own_origin(a, origin, host)) {
        out->status = 403;
        out->why = "Origin not allowed";
        return;
    }
    if (!listed && out->token_via == SCN_TOKEN_NONE &&
        !scn__http_host_is_literal(host)) {
        out->status = 403;
        out->why = "Host is a name: use the address, localhost or the token";
        return;
    }
}
