/* The WebSocket opening handshake, server side. */
#include "ws_handshake.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "sha1.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

bool scn__ws_is_upgrade(const scn_http_request *r)
{
    return scn__http_field_has(r, "upgrade", "websocket");
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A base64 encoding of 16 bytes: 22 characters and "==", the last of
 * them carrying no bits beyond the 128 (so only A, Q, g or w). */
static bool key_ok(const char *k)
{
    if (!k || strlen(k) != 24 || strcmp(k + 22, "==") != 0)
        return false;
    for (int i = 0; i < 22; i++)
        if (!k[i] || !strchr(b64, k[i]))
            return false;
    return strchr("AQgw", k[21]) != NULL;
}

int scn__ws_check_upgrade(const scn_http_request *r)
{
    const char *v = scn__http_field_get(r, "sec-websocket-version");

    if (strcmp(r->method, "GET") != 0 || r->minor < 1)
        return 400;
    if (!scn__http_field_has(r, "connection", "upgrade"))
        return 400;
    if (!v || strcmp(v, "13") != 0)
        return 426;
    if (!key_ok(scn__http_field_get(r, "sec-websocket-key")))
        return 400;
    return 0;
}

int scn__ws_pick_subprotocol(const scn_http_request *r, const char *const *want,
                             size_t n, bool *any)
{
    *any = false;
    for (size_t i = 0; i < r->nfields; i++) {
        const char *v = r->fields[i].value;

        if (strcasecmp(r->fields[i].name, "sec-websocket-protocol") == 0 &&
            v[strspn(v, " \t,")])
            *any = true;
    }
    /* Subprotocol names are compared exactly (RFC 6455 4.1: tokens that
     * are case-sensitive), so the list is walked here, not with the
     * case-insensitive helper. */
    for (size_t w = 0; w < n; w++) {
        size_t wn = strlen(want[w]);

        for (size_t i = 0; i < r->nfields; i++) {
            const char *p = r->fields[i].value;

            if (strcasecmp(r->fields[i].name, "sec-websocket-protocol") != 0)
                continue;
            while (*p) {
                size_t len;

                while (*p == ' ' || *p == '\t' || *p == ',')
                    p++;
                len = strcspn(p, " \t,");
                if (len == wn && strncmp(p, want[w], wn) == 0)
                    return (int)w;
                p += len;
            }
        }
    }
    return -1;
}

void scn__base64(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 |
                     (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);

        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
}

void scn__ws_accept_value(const char *key, char out[29])
{
    unsigned char d[SCN_SHA1_LEN];
    char in[64 + sizeof(WS_GUID)];
    size_t kn = strlen(key);

    if (kn > 64)
        kn = 64;
    memcpy(in, key, kn);
    memcpy(in + kn, WS_GUID, sizeof(WS_GUID) - 1);
    scn__sha1(in, kn + sizeof(WS_GUID) - 1, d);
    scn__base64(d, SCN_SHA1_LEN, out);
}
