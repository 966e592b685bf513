/*
 * The handshake (PROTOCOL.md 2): which key, which device, which protocol.
 * The skeleton answers a refusal as a real HTTP response from lws's
 * CONFIRM_UPGRADE callback (common/simhttp.c).
 */
#include "device.h"

#include <stdio.h>
#include <string.h>

#include "common/simhttp.h"

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

/* The handshake checks, in the order that tells the client the most
 * without revealing anything to a client without a valid key. */
void dev_admit(dev_srv *s, struct lws *wsi, dev_admission *r)
{
    char proto[256];
    ks_verdict v;
    int n, u;

    sim_admission_init(r, sizeof(*r), wsi);
    n = lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL);
    if (n > 0) {
        /* lws would hang up without a word: answer instead. */
        if ((size_t)n >= sizeof(proto) ||
            lws_hdr_copy(wsi, proto, sizeof(proto), WSI_TOKEN_PROTOCOL) < 0 ||
            !sim_offers_protocol(proto, DEV_PROTOCOL)) {
            r->a.status = 400;
            r->a.reason = "no supported subprotocol";
            return;
        }
        r->v1 = 1;
    }

    v = sim_admit_key(&s->base, wsi, &r->a);
    if (r->a.status)
        return;

    u = requested_uid(wsi, r->uid, sizeof(r->uid));
    if (u == 1)
        snprintf(r->uid, sizeof(r->uid), "%s", s->o->uids[0]);
    r->dev = u < 0 ? -1 : uid_index(s->o, r->uid);
    if (r->dev < 0) {
        r->a.status = 404;
        r->a.reason = "unknown device";
        return;
    }
    /* Last: an unknown device is a permanent error, worth reporting
     * before a quota that only asks to come back later. */
    if (v == KS_QUOTA) {
        r->a.status = 429;
        r->a.reason = "quota exhausted";
    }
}
