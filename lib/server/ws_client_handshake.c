/* The WebSocket opening handshake, client side. */
#include "ws_client_handshake.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_request.h"
#include "ws_handshake.h"

void scn__ws_reply_init(scn_ws_reply *r)
{
    memset(r, 0, sizeof(*r));
}

void scn__ws_client_key(const unsigned char nonce[16], char out[25])
{
    scn__base64(nonce, 16, out);
}

static char *trim(char *v)
{
    size_t n;

    v += strspn(v, " \t");
    n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        v[--n] = '\0';
    return v;
}

/* Splits buf (complete, NUL-terminated at the blank line) into the status
 * and the fields the handshake needs. */
static int parse(scn_ws_reply *r)
{
    struct {
        const char *name;
        const char **to;
    } const want[] = {
        {"upgrade", &r->upgrade},
        {"connection", &r->connection},
        {"sec-websocket-accept", &r->accept},
        {"sec-websocket-protocol", &r->protocol},
        {"sec-websocket-extensions", &r->extensions},
        {"www-authenticate", &r->www_authenticate},
        {"retry-after", &r->retry_after},
    };
    char *line = r->buf, *next;
    char *end;
    long status;

    next = strstr(line, "\r\n");
    if (!next)
        return -1;
    *next = '\0';
    /* "HTTP/1.x NNN reason" */
    if (strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ')
        return -1;
    status = strtol(line + 9, &end, 10);
    if (end != line + 12 || (*end != ' ' && *end != '\0') || status < 100 ||
        status > 999)
        return -1;
    r->status = (int)status;
    for (line = next + 2; *line; line = next + 2) {
        char *colon;

        next = strstr(line, "\r\n");
        if (!next)
            return -1;
        *next = '\0';
        colon = strchr(line, ':');
        if (!colon || colon == line)
            return -1;
        *colon = '\0';
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
            if (!*want[i].to && strcasecmp(line, want[i].name) == 0)
                *want[i].to = trim(colon + 1);
    }
    return 0;
}

/* Where the blank line ending the headers starts in buf[from..len), or
 * -1. */
static long blank_line(const char *buf, size_t from, size_t len)
{
    for (size_t i = from; i + 4 <= len; i++)
        if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
            return (long)i;
    return -1;
}

int scn__ws_reply_feed(scn_ws_reply *r, const void *in, size_t n, size_t *used)
{
    size_t old = r->len, room = SCN_WS_REPLY_MAX - r->len;
    size_t take = n < room ? n : room;
    long end;

    memcpy(r->buf + r->len, in, take);
    r->len += take;
    end = blank_line(r->buf, old > 3 ? old - 3 : 0, r->len);
    if (end < 0) {
        *used = take;
        return r->len == SCN_WS_REPLY_MAX ? -1 : 0;
    }
    /* What follows the blank line is frames, not ours. */
    r->len = (size_t)end + 4;
    *used = r->len - old;
    r->buf[end + 2] = '\0'; /* the last field's line ends at its CRLF */
    /* A NUL inside would hide the rest from the parser: not HTTP. */
    if (memchr(r->buf, '\0', (size_t)end + 2))
        return -1;
    return parse(r) ? -1 : 1;
}

/* Whether list (comma-separated tokens) holds token exactly: subprotocol
 * names are case-sensitive (RFC 6455 4.1). */
static bool offered(const char *list, const char *token)
{
    size_t tn = strlen(token);

    while (list && *list) {
        size_t n;

        list += strspn(list, " \t,");
        n = strcspn(list, " \t,");
        if (n == tn && strncmp(list, token, n) == 0)
            return true;
        list += n;
    }
    return false;
}

const char *scn__ws_reply_check(const scn_ws_reply *r, const char *key,
                                const char *offer)
{
    char accept[29];

    if (r->status != 101)
        return "not switching protocols";
    if (!r->upgrade || strcasecmp(r->upgrade, "websocket") != 0)
        return "no Upgrade: websocket";
    if (!r->connection || !scn__http_list_has(r->connection, "upgrade"))
        return "no Connection: upgrade";
    scn__ws_accept_value(key, accept);
    if (!r->accept || strcmp(r->accept, accept) != 0)
        return "wrong Sec-WebSocket-Accept";
    /* We offer no extension, so the server may not use one. */
    if (r->extensions && *r->extensions)
        return "an extension we did not offer";
    if (r->protocol && *r->protocol && !offered(offer, r->protocol))
        return "a subprotocol we did not offer";
    return NULL;
}
