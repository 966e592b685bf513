/*
 * The cloud mode's server-wide parts on the common skeleton
 * (common/simserver.c): the handshake checks, the per-(key, stream) ack
 * store, and what key rechecks, stalls and drops do. One stream session
 * is in cloud_stream.c, predict in cloud_http.c, the toy model in
 * cloud_model.c.
 */
#include "cloud_sim.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/keycheck.h"
#include "common/simclock.h"
#include "common/simhttp.h"
#include "common/simlog.h"

typedef cloud_admission admission;

static_assert(sizeof(admission) <= SIM_ADMISSION_MAX,
              "the admission fits the skeleton's room");

static cloud_srv *cloud_of(sim_server *s)
{
    return (cloud_srv *)s;
}

unsigned cloud_refusing(const cloud_srv *s)
{
    double left =
        s->o->refuse_429_for - (double)(sim_mono_us() - s->base.t0_us) / 1e6;

    return left > 0 ? (unsigned)ceil(left) : 0;
}

cloud_ackrec *cloud_ack_find(cloud_srv *s, const char *key, const char *stream)
{
    cloud_ackrec *a;

    for (a = s->acks; a; a = a->next)
        if (!strcmp(a->key, key) && !strcmp(a->stream, stream))
            return a;
    a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    snprintf(a->key, sizeof(a->key), "%s", key);
    snprintf(a->stream, sizeof(a->stream), "%s", stream);
    a->next = s->acks;
    s->acks = a;
    return a;
}

/* ------------------------------------------------------- handshake */

static int stream_id_ok(const char *id)
{
    size_t i, n = strlen(id);

    if (!n || n > CLOUD_STREAM_ID)
        return 0;
    for (i = 0; i < n; i++)
        if (!(id[i] >= '0' && id[i] <= '9') &&
            !(id[i] >= 'a' && id[i] <= 'z') &&
            !(id[i] >= 'A' && id[i] <= 'Z') && id[i] != '-' && id[i] != '_')
            return 0;
    return 1;
}

/* X-Scentience-Stream first, then ?stream=. */
static int stream_id(struct lws *wsi, char *out, size_t cap)
{
    static const char hdr[] = "x-scentience-stream:";
    char arg[CLOUD_STREAM_ID + 16];
    int n = lws_hdr_custom_length(wsi, hdr, (int)sizeof(hdr) - 1);
    const char *v;

    out[0] = '\0';
    if (n > 0 && (size_t)n < cap &&
        lws_hdr_custom_copy(wsi, out, (int)cap, hdr, (int)sizeof(hdr) - 1) >= 0)
        return stream_id_ok(out) ? 0 : -1;
    v = lws_get_urlarg_by_name(wsi, "stream=", arg, (int)sizeof(arg));
    if (!v || strlen(v) >= cap)
        return -1;
    snprintf(out, cap, "%s", v);
    return stream_id_ok(out) ? 0 : -1;
}

/* Order of PROTOCOL.md 2: path and subprotocol (400), key (401, 403),
 * stream id (400), quota (429). */
static void admit(sim_server *s, struct lws *wsi, sim_admission *ra)
{
    admission *r = (admission *)ra;
    char buf[256];
    ks_verdict v;
    int n;

    sim_admission_init(r, sizeof(*r), wsi);
    n = lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_GET_URI);
    if (n <= 0 || strcmp(buf, "/v1/stream")) {
        ra->status = 404;
        ra->reason = "no such endpoint";
        return;
    }
    n = lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL);
    if (n <= 0 || (size_t)n >= sizeof(buf) ||
        lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_PROTOCOL) < 0 ||
        !sim_offers_protocol(buf, CLOUD_PROTOCOL)) {
        ra->status = 400;
        ra->reason = "subprotocol " CLOUD_PROTOCOL " not offered";
        return;
    }
    v = sim_admit_key(s, wsi, ra);
    if (ra->status == 401)
        ra->reason = "key refused";
    if (ra->status)
        return;
    if (stream_id(wsi, r->stream, sizeof(r->stream))) {
        ra->status = 400;
        ra->reason = "stream id missing or invalid";
        return;
    }
    if (v == KS_QUOTA || cloud_refusing(cloud_of(s))) {
        ra->status = 429;
        ra->reason = "quota exhausted";
        if (v != KS_QUOTA)
            ra->retry_after = cloud_refusing(cloud_of(s));
    }
}

/* ---------------------------------------------------- server-wide */

static void fault_log(const char *kind, const char *source, int n)
{
    cJSON *ev = sim_fault_event(kind, source);

    cJSON_AddNumberToObject(ev, "conns", n);
    simlog_emit(ev);
}

static void drop(sim_server *s, const char *source, int all)
{
    int n = 0;

    (void)all; /* the cloud has no links of its own */
    SIM_FOR_EACH (cloud_conn, c, s) {
        if (c->h.dropped)
            continue;
        cloud_stream_drop(c);
        n++;
    }
    fault_log("drop", source, n);
}

static void stall_end_cb(lws_sorted_usec_list_t *sul)
{
    cloud_srv *cs = lws_container_of(sul, cloud_srv, base.sul_stall_end);

    SIM_FOR_EACH (cloud_conn, c, &cs->base)
        if (c->stalled)
            cloud_stream_stall(c, 0);
    fault_log("stall_end", "timer", 0);
}

/* Neither reads nor writes for --stall-for seconds: a cloud that hangs. */
static void stall(sim_server *s, const char *source)
{
    cloud_srv *cs = cloud_of(s);
    int n = 0;

    SIM_FOR_EACH (cloud_conn, c, s) {
        if (c->h.closing || c->h.dropped)
            continue;
        cloud_stream_stall(c, 1);
        n++;
    }
    fault_log("stall", source, n);
    lws_sul_schedule(s->ctx, 0, &cs->base.sul_stall_end, stall_end_cb,
                     (lws_usec_t)(cs->o->stall_for_s * 1e6));
}

static void recheck(sim_server *s)
{
    time_t now = time(NULL);
    const char *reason;
    int code;

    SIM_FOR_EACH (cloud_conn, c, s) {
        if (c->h.closing || c->h.dropped ||
            !(code = sim_keys_close_code(c->key, c->peer, now, &reason)))
            continue;
        /* An error message says why before the close (section 9.2). */
        if (code == 4001)
            cloud_stream_error(c, "revoked", reason, 0, 0);
        else if (code == 4002)
            cloud_stream_error(c, "expired", reason, 0, 0);
        cloud_stream_close(c, code, reason);
    }
}

static void release(sim_server *s)
{
    cloud_srv *cs = cloud_of(s);

    while (cs->acks) {
        cloud_ackrec *a = cs->acks;

        cs->acks = a->next;
        cloud_keep_free(a);
        free(a);
    }
}

static const sim_mode_ops cloud_ops = {
    .name = "cloud",
    .protocol = CLOUD_PROTOCOL,
    .admit = admit,
    .conn = &cloud_stream_ops,
    .http = &cloud_http_ops,
    .recheck = recheck,
    .stall = stall,
    .drop = drop,
    .release = release,
};

int cloud_run(const cloud_opts *o)
{
    cloud_srv cs = {.o = o};

    return sim_server_run(&cs.base, &cloud_ops, &o->base);
}
