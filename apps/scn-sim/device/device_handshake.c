/*
 * The handshake (PROTOCOL.md 2): which key, which device, which protocol,
 * and the refusals, answered as real HTTP responses from lws's
 * CONFIRM_UPGRADE callback.
 */
#include "device.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *status_text(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    default:
        return "Error";
    }
}

/*
 * Answers with an HTTP status instead of the upgrade. The status line is
 * written by hand: lws_add_http_header_status() uses the request's HTTP
 * version, which lws 4.1 records only for plain HTTP requests, so for an
 * upgrade it would say "HTTP/1.0", which WebSocket clients refuse to read.
 * Returns 1 (answered, the value CONFIRM_UPGRADE expects) or -1.
 */
int dev_http_refuse(struct lws *wsi, int status, const char *auth_desc,
                    unsigned retry_after, int close)
{
    unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start,
                                      *end = buf + sizeof(buf) - 1;
    char v[160];
    int n;

    n = snprintf(v, sizeof(v), "HTTP/1.1 %d %s", status, status_text(status));
    if (lws_add_http_header_by_name(wsi, NULL, (unsigned char *)v, n, &p, end))
        return -1;
    if (status == 401) {
        n = snprintf(v, sizeof(v),
                     "Bearer error=\"invalid_token\", "
                     "error_description=\"%s\"",
                     auth_desc ? auth_desc : "invalid");
        if (lws_add_http_header_by_name(
                wsi, (unsigned char *)"www-authenticate:", (unsigned char *)v,
                n, &p, end))
            return -1;
    }
    if (status == 429) {
        n = snprintf(v, sizeof(v), "%u", retry_after);
        if (lws_add_http_header_by_name(wsi, (unsigned char *)"retry-after:",
                                        (unsigned char *)v, n, &p, end))
            return -1;
    }
    if (status == 426 &&
        lws_add_http_header_by_name(wsi, (unsigned char *)"upgrade:",
                                    (unsigned char *)"websocket", 9, &p, end))
        return -1;
    if (lws_add_http_header_content_length(wsi, 0, &p, end) ||
        (close &&
         lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                      (unsigned char *)"close", 5, &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    return 1;
}

/* Whether a Sec-WebSocket-Protocol list offers scentience.v1. */
static int offers_v1(const char *list)
{
    const char *p = list;

    while (*p) {
        const char *e;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        e = p;
        while (*e && *e != ',' && *e != ' ' && *e != '\t')
            e++;
        if ((size_t)(e - p) == strlen(DEV_PROTOCOL) &&
            !strncmp(p, DEV_PROTOCOL, (size_t)(e - p)))
            return 1;
        p = e;
    }
    return 0;
}

static void trim(char *s)
{
    size_t n = strlen(s), i = 0;

    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    memmove(s, s + i, n - i + 1);
}

/* The requested UID: X-Scentience-UID first, then ?uid=. Returns 0 and
 * fills uid, 1 when neither is given, -1 when one is too long. */
static int requested_uid(struct lws *wsi, char *uid, size_t cap)
{
    static const char hdr[] = "x-scentience-uid:";
    char arg[DEV_UID_MAX + 8];
    const char *v;
    int n = lws_hdr_custom_length(wsi, hdr, (int)sizeof(hdr) - 1);

    if (n > 0) {
        if ((size_t)n >= cap || lws_hdr_custom_copy(wsi, uid, (int)cap, hdr,
                                                    (int)sizeof(hdr) - 1) < 0)
            return -1;
        trim(uid);
        if (*uid)
            return 0;
    }
    v = lws_get_urlarg_by_name(wsi, "uid=", arg, (int)sizeof(arg));
    if (!v) {
        /* Absent, or longer than the buffer: tell them apart. */
        return lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS) >
                       (int)sizeof(arg) - 8
                   ? -1
                   : 1;
    }
    if (strlen(v) >= cap)
        return -1;
    snprintf(uid, cap, "%s", v);
    trim(uid);
    return *uid ? 0 : 1;
}

static int uid_index(const device_opts *o, const char *uid)
{
    int i;

    for (i = 0; i < o->n_uids; i++)
        if (!strcmp(o->uids[i], uid))
            return i;
    return -1;
}

/* The Authorization header against the key store. r->reason is set when
 * the header itself is missing or not a Bearer credential. */
static ks_verdict check_key(dev_srv *s, struct lws *wsi, dev_admission *r)
{
    char auth[KS_KEY_MAX + 64];
    const char *key;
    size_t klen;
    ks_verdict v = KS_INVALID;
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);

    r->reason = "missing or malformed Authorization";
    if (n <= 0 || (size_t)n >= sizeof(auth))
        return KS_INVALID;
    n = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n >= 0 && !ks_bearer(auth, &key, &klen)) {
        v = ks_admit(s->ks, key, klen, r->peer, time(NULL),
                     (double)dev_mono_us() / 1e6, &r->key, &r->retry_after);
        r->reason = NULL;
    }
    explicit_bzero(auth, sizeof(auth)); /* our copy at least */
    return v;
}

/* The handshake checks, in the order that tells the client the most
 * without revealing anything to a client without a valid key. */
void dev_admit(dev_srv *s, struct lws *wsi, dev_admission *r)
{
    char proto[256];
    ks_verdict v;
    int n, u;

    memset(r, 0, sizeof(*r));
    if (!lws_get_peer_simple(wsi, r->peer, sizeof(r->peer)))
        snprintf(r->peer, sizeof(r->peer), "?");
    n = lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL);
    if (n > 0) {
        /* lws would hang up without a word: answer instead. */
        if ((size_t)n >= sizeof(proto) ||
            lws_hdr_copy(wsi, proto, sizeof(proto), WSI_TOKEN_PROTOCOL) < 0 ||
            !offers_v1(proto)) {
            r->status = 400;
            r->reason = "no supported subprotocol";
            return;
        }
        r->v1 = 1;
    }

    v = check_key(s, wsi, r);
    switch (v) {
    case KS_INVALID:
        r->status = 401;
        r->auth_desc = "invalid";
        if (!r->reason)
            r->reason = "key invalid";
        return;
    case KS_EXPIRED:
    case KS_REVOKED:
        r->status = 401;
        r->auth_desc = v == KS_EXPIRED ? "expired" : "revoked";
        r->reason = v == KS_EXPIRED ? "key expired" : "key revoked";
        return;
    case KS_ADDRESS:
        r->status = 403;
        r->reason = "address not allowed";
        return;
    default:
        break;
    }

    u = requested_uid(wsi, r->uid, sizeof(r->uid));
    if (u == 1)
        snprintf(r->uid, sizeof(r->uid), "%s", s->o->uids[0]);
    r->dev = u < 0 ? -1 : uid_index(s->o, r->uid);
    if (r->dev < 0) {
        r->status = 404;
        r->reason = "unknown device";
        return;
    }
    /* Last: an unknown device is a permanent error, worth reporting
     * before a quota that only asks to come back later. */
    if (v == KS_QUOTA) {
        r->status = 429;
        r->reason = "quota exhausted";
    }
}
