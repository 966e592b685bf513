/* URL parsing for session endpoints. */
#include "url.h"

#include <scentience/error.h>
#include <scentience/session.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool has_bad_chars(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f)
            return true;
    return false;
}

static int parse_port(const char *p, size_t n, int *port)
{
    long v = 0;

    if (n == 0 || n > 5)
        return SCN_ERR_URL;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return SCN_ERR_URL;
        v = v * 10 + (p[i] - '0');
    }
    if (v < 1 || v > 65535)
        return SCN_ERR_URL;
    *port = (int)v;
    return 0;
}

int scn__url_parse(const char *text, scn_url *out)
{
    const char *p, *host_end, *auth_end, *port_start = NULL;
    size_t host_len;

    if (!text || !out || has_bad_chars(text))
        return SCN_ERR_URL;
    memset(out, 0, sizeof(*out));
    if (strncmp(text, "ws://", 5) == 0) {
        p = text + 5;
        out->port = 80;
    } else if (strncmp(text, "wss://", 6) == 0) {
        p = text + 6;
        out->tls = true;
        out->port = 443;
    } else {
        return SCN_ERR_URL;
    }
    if (strchr(text, '#'))
        return SCN_ERR_URL;
    auth_end = p + strcspn(p, "/?");
    if (memchr(p, '@', (size_t)(auth_end - p)))
        return SCN_ERR_URL;

    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(auth_end - p));
        if (!close)
            return SCN_ERR_URL;
        host_len = (size_t)(close - p - 1);
        p++;
        host_end = close + 1;
        if (host_end < auth_end) {
            if (*host_end != ':')
                return SCN_ERR_URL;
            port_start = host_end + 1;
        }
    } else {
        const char *colon = memchr(p, ':', (size_t)(auth_end - p));
        host_end = colon ? colon : auth_end;
        host_len = (size_t)(host_end - p);
        if (colon)
            port_start = colon + 1;
    }
    /* Brackets only enclose an IPv6 address: inside a host they would make
     * it read differently when written back. */
    if (host_len == 0 || host_len >= sizeof(out->host) ||
        memchr(p, '[', host_len) || memchr(p, ']', host_len))
        return SCN_ERR_URL;
    memcpy(out->host, p, host_len);
    if (port_start &&
        parse_port(port_start, (size_t)(auth_end - port_start), &out->port))
        return SCN_ERR_URL;

    if (*auth_end == '\0') {
        strcpy(out->path, "/");
    } else {
        int n = snprintf(out->path, sizeof(out->path), "%s%s",
                         *auth_end == '?' ? "/" : "", auth_end);
        if (n < 0 || (size_t)n >= sizeof(out->path))
            return SCN_ERR_URL;
    }
    return 0;
}

static bool unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

int scn__url_add_query(scn_url *url, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen(url->path);
    size_t orig = len;
    size_t cap = sizeof(url->path);
    char sep = strchr(url->path, '?') ? '&' : '?';
    int n = snprintf(url->path + len, cap - len, "%c%s=", sep, name);

    if (n < 0 || (size_t)n >= cap - len)
        goto too_long;
    len += (size_t)n;
    for (const unsigned char *v = (const unsigned char *)value; *v; v++) {
        if (len + 4 > cap)
            goto too_long;
        if (unreserved(*v)) {
            url->path[len++] = (char)*v;
        } else {
            url->path[len++] = '%';
            url->path[len++] = hex[*v >> 4];
            url->path[len++] = hex[*v & 15];
        }
    }
    url->path[len] = '\0';
    return 0;
too_long:
    url->path[orig] = '\0';
    return SCN_ERR_URL;
}

int scn_url_host(const char *url, char *out, size_t cap)
{
    scn_url u;

    if (!url || !out || !cap)
        return SCN_ERR_INVALID_ARG;
    out[0] = '\0';
    if (scn__url_parse(url, &u) != 0)
        return SCN_ERR_URL;
    if (strlen(u.host) >= cap)
        return SCN_ERR_INVALID_ARG;
    memcpy(out, u.host, strlen(u.host) + 1);
    return 0;
}
