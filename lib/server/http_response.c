/* HTTP/1.1 response heads. */
#include "http_response.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ws_handshake.h"

/* What every answer carries. */
#define COMMON_HEADERS                                                         \
    "X-Content-Type-Options: nosniff\r\n"                                      \
    "Referrer-Policy: no-referrer\r\n"                                         \
    "X-Frame-Options: DENY\r\n"

const char *scn__http_reason(int status)
{
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

const char *scn__http_content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {{".html", "text/html; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"},
                 {".mjs", "text/javascript; charset=utf-8"},
                 {".css", "text/css; charset=utf-8"},
                 {".json", "application/json"},
                 {".svg", "image/svg+xml"},
                 {".png", "image/png"},
                 {".ico", "image/x-icon"},
                 {".woff2", "font/woff2"},
                 {".txt", "text/plain; charset=utf-8"},
                 {".webmanifest", "application/manifest+json"}};
    const char *dot = strrchr(path, '.');

    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcasecmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* snprintf that reports 0 for "did not fit". */
static size_t put(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

size_t scn__http_error_response(char *buf, size_t cap, int status,
                                const char *why, const char *extra,
                                bool head_only, bool close)
{
    const char *text = why ? why : scn__http_reason(status);

    return put(buf, cap,
               "HTTP/1.1 %d %s\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n"
               "Content-Length: %zu\r\n"
               "Cache-Control: no-store\r\n" COMMON_HEADERS "%s%s\r\n%s%s",
               status, scn__http_reason(status), strlen(text) + 1,
               extra ? extra : "", close ? "Connection: close\r\n" : "",
               head_only ? "" : text, head_only ? "" : "\n");
}

/* Only a plain host[:port] goes into the policy, so that a hostile Host
 * cannot add sources or directives. */
static bool host_plain(const char *h)
{
    return h && *h && strlen(h) < 200 &&
           strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789.-:[]") == strlen(h);
}

size_t scn__http_asset_head(char *buf, size_t cap, int status,
                            const char *content_type, size_t body_len,
                            const char *etag, const char *host,
                            const char *extra, bool close)
{
    char ws[512] = "";

    /* 'self' covers ws: and wss: on the same host in CSP level 3; older
     * engines need the sources spelled out. */
    if (host_plain(host))
        snprintf(ws, sizeof(ws), " ws://%s wss://%s", host, host);
    return put(buf, cap,
               "HTTP/1.1 %d %s\r\n"
               "Content-Type: %s\r\n"
               "Content-Length: %zu\r\n"
               "ETag: \"%s\"\r\n"
               "Cache-Control: no-cache\r\n"
               "Content-Security-Policy: default-src 'none'; "
               "script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "font-src 'self'; connect-src 'self'%s; base-uri 'none'; "
               "form-action 'none'; frame-ancestors 'none'\r\n"
               "Cross-Origin-Resource-Policy: same-origin\r\n" COMMON_HEADERS
               "%s%s\r\n",
               status, scn__http_reason(status), content_type, body_len, etag,
               ws, extra ? extra : "", close ? "Connection: close\r\n" : "");
}

size_t scn__ws_accept_response(char *buf, size_t cap, const char *key,
                               const char *subprotocol)
{
    char accept[29];

    scn__ws_accept_value(key, accept);
    return put(buf, cap,
               "HTTP/1.1 101 Switching Protocols\r\n"
               "Upgrade: websocket\r\n"
               "Connection: Upgrade\r\n"
               "Sec-WebSocket-Accept: %s\r\n"
               "%s%s%s\r\n",
               accept, subprotocol ? "Sec-WebSocket-Protocol: " : "",
               subprotocol ? subprotocol : "", subprotocol ? "\r\n" : "");
}
