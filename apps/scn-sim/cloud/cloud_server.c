/*
 * `scn-sim cloud` server: lws context and callback, the /v1/stream
 * sessions (hello, records, inferences, acks, duplicates, errors), the
 * per-(key, stream) ack store, signals and faults. Predict is in
 * cloud_http.c, the toy model in cloud_model.c.
 *
 * Acks: the simulator acks every record at once (after its inference),
 * which satisfies "at least once a second" and keeps tests exact. It
 * keeps the newest inferences of each stream (cloud_keep.c) and sends
 * them again when a client asks ("resend").
 */
#include "cloud_sim.h"

#include <arpa/inet.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"
#include "common/keycheck.h"
#include "common/simlog.h"
#include "common/simnet.h"
#include "common/simsig.h"

#define HOUSEKEEPING_US (1000 * 1000)
#define STOP_GRACE_US   (1500 * 1000)
#define SEQ_MAX         ((UINT64_C(1) << 53) - 1)

int64_t cloud_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

unsigned cloud_refusing(const cloud_srv *s)
{
    double left =
        s->o->refuse_429_for - (double)(cloud_mono_us() - s->t0_us) / 1e6;

    return left > 0 ? (unsigned)ceil(left) : 0;
}

ks_verdict cloud_check_key(cloud_srv *s, struct lws *wsi, const char *peer,
                           ks_key **key, unsigned *retry_after)
{
    char auth[KS_KEY_MAX + 64];
    const char *k;
    size_t klen;
    ks_verdict v = KS_INVALID;
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);

    *key = NULL;
    if (n <= 0 || (size_t)n >= sizeof(auth))
        return KS_INVALID;
    n = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n >= 0 && !ks_bearer(auth, &k, &klen))
        v = ks_admit(s->ks, k, klen, peer, time(NULL),
                     (double)cloud_mono_us() / 1e6, key, retry_after);
    explicit_bzero(auth, sizeof(auth));
    return v;
}

/* ------------------------------------------------------------ acks */

static cloud_ackrec *ack_find(cloud_srv *s, const char *key, const char *stream)
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

static int offers_cloud(const char *list)
{
    static const char want[] = "scentience.cloud.v1";
    const char *p = list;

    while (*p) {
        const char *e;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        e = p;
        while (*e && *e != ',' && *e != ' ' && *e != '\t')
            e++;
        if ((size_t)(e - p) == sizeof(want) - 1 && !strncmp(p, want, e - p))
            return 1;
        p = e;
    }
    return 0;
}

typedef struct admission {
    int status;
    const char *reason, *auth_desc;
    unsigned retry_after;
    ks_key *key;
    char peer[64];
    char stream[CLOUD_STREAM_ID + 1];
} admission;

/* Order of PROTOCOL.md 2: path and subprotocol (400), key (401, 403),
 * stream id (400), quota (429). */
static void admit(cloud_srv *s, struct lws *wsi, admission *r)
{
    char buf[256];
    ks_verdict v;
    int n;

    memset(r, 0, sizeof(*r));
    if (!lws_get_peer_simple(wsi, r->peer, sizeof(r->peer)))
        snprintf(r->peer, sizeof(r->peer), "?");
    n = lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_GET_URI);
    if (n <= 0 || strcmp(buf, "/v1/stream")) {
        r->status = 404;
        r->reason = "no such endpoint";
        return;
    }
    n = lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL);
    if (n <= 0 || (size_t)n >= sizeof(buf) ||
        lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_PROTOCOL) < 0 ||
        !offers_cloud(buf)) {
        r->status = 400;
        r->reason = "subprotocol scentience.cloud.v1 not offered";
        return;
    }
    v = cloud_check_key(s, wsi, r->peer, &r->key, &r->retry_after);
    if (v == KS_INVALID || v == KS_EXPIRED || v == KS_REVOKED) {
        r->status = 401;
        r->auth_desc = v == KS_EXPIRED   ? "expired"
                       : v == KS_REVOKED ? "revoked"
                                         : "invalid";
        r->reason = "key refused";
        return;
    }
    if (v == KS_ADDRESS) {
        r->status = 403;
        r->reason = "address not allowed";
        return;
    }
    if (stream_id(wsi, r->stream, sizeof(r->stream))) {
        r->status = 400;
        r->reason = "stream id missing or invalid";
        return;
    }
    if (v == KS_QUOTA || cloud_refusing(s)) {
        r->status = 429;
        r->reason = "quota exhausted";
        if (v != KS_QUOTA)
            r->retry_after = cloud_refusing(s);
    }
}

static void log_refused(const admission *r)
{
    cJSON *ev = simlog_event("refused");

    cJSON_AddNumberToObject(ev, "status", r->status);
    cJSON_AddStringToObject(ev, "reason", r->reason);
    cJSON_AddStringToObject(ev, "peer", r->peer);
    if (r->status == 429)
        cJSON_AddNumberToObject(ev, "retry_after", r->retry_after);
    simlog_emit(ev);
    simlog_info("refused %s: %d %s", r->peer, r->status, r->reason);
}

/* --------------------------------------------------------- session */

static void send_text(cloud_conn *c, const char *text)
{
    size_t n = strlen(text);
    cloud_out *o = malloc(sizeof(*o) + n + 1);

    if (!o)
        return;
    o->next = NULL;
    o->len = n;
    memcpy(o->text, text, n + 1);
    if (c->q_tail)
        c->q_tail->next = o;
    else
        c->q_head = o;
    c->q_tail = o;
    if (!c->stalled)
        lws_callback_on_writable(c->wsi);
}

static void send_json(cloud_conn *c, cJSON *msg)
{
    char *t = cJSON_PrintUnformatted(msg);

    if (t)
        send_text(c, t);
    cJSON_free(t);
    cJSON_Delete(msg);
}

static void send_ack(cloud_conn *c, uint64_t seq)
{
    char t[64];

    snprintf(t, sizeof(t), "{\"type\":\"ack\",\"seq\":%llu}",
             (unsigned long long)seq);
    send_text(c, t);
}

static void send_error(cloud_conn *c, const char *code, const char *message,
                       uint64_t seq, unsigned retry_after)
{
    cJSON *e = cJSON_CreateObject();

    cJSON_AddStringToObject(e, "type", "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    if (seq)
        cJSON_AddNumberToObject(e, "seq", (double)seq);
    if (retry_after)
        cJSON_AddNumberToObject(e, "retry_after", retry_after);
    send_json(c, e);
}

static void conn_close(cloud_conn *c, int code, const char *reason)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->close_code = code;
    snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
    c->stalled = 0;
    lws_rx_flow_control(c->wsi, 0);
    lws_callback_on_writable(c->wsi);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 3);
}

static cJSON *seq_event(const cloud_conn *c, const char *event, uint64_t seq,
                        uint64_t acked, const char *extra_name,
                        const char *extra)
{
    cJSON *ev = simlog_event(event);

    cJSON_AddNumberToObject(ev, "conn", (double)c->id);
    cJSON_AddStringToObject(ev, "key", c->key_name);
    cJSON_AddStringToObject(ev, "stream", c->stream);
    cJSON_AddNumberToObject(ev, "seq", (double)seq);
    cJSON_AddNumberToObject(ev, "acked", (double)acked);
    if (extra_name)
        cJSON_AddStringToObject(ev, extra_name, extra);
    return ev;
}

static void log_seq(const cloud_conn *c, const char *event, uint64_t seq,
                    uint64_t acked, const char *extra_name, const char *extra)
{
    simlog_emit(seq_event(c, event, seq, acked, extra_name, extra));
}

/* {"type":"resend","seqs":[...]}: every acknowledged record's inference
 * again, or "gone" when it is no longer kept (or was never made). */
static void resend(cloud_conn *c, cloud_ackrec *a, const cJSON *msg)
{
    const cJSON *seqs = cJSON_GetObjectItemCaseSensitive(msg, "seqs"), *v;
    int n = cJSON_GetArraySize(seqs), found = 0;
    cJSON *ev;

    if (!cJSON_IsArray(seqs) || n < 1 || n > 64) {
        send_error(c, "malformed", "resend: seqs must list 1-64 seqs", 0, 0);
        return;
    }
    cJSON_ArrayForEach(v, seqs)
    {
        uint64_t seq = cJSON_IsNumber(v) && v->valuedouble >= 1 &&
                               v->valuedouble <= (double)SEQ_MAX &&
                               v->valuedouble == floor(v->valuedouble)
                           ? (uint64_t)v->valuedouble
                           : 0;
        const char *kept =
            seq && seq <= a->acked ? cloud_keep_get(a, seq) : NULL;

        if (kept) {
            send_text(c, kept);
            found++;
        } else {
            send_error(c, "gone", "no inference kept for this seq", seq, 0);
        }
    }
    ev = simlog_event("resend");
    cJSON_AddNumberToObject(ev, "conn", (double)c->id);
    cJSON_AddStringToObject(ev, "stream", c->stream);
    cJSON_AddItemToObject(ev, "seqs", cJSON_Duplicate(seqs, 1));
    cJSON_AddNumberToObject(ev, "found", found);
    cJSON_AddNumberToObject(ev, "gone", n - found);
    simlog_emit(ev);
}

/* One complete record (or resend request). */
static void record(cloud_conn *c, const char *text, size_t len)
{
    cloud_srv *s = c->srv;
    cloud_ackrec *a = ack_find(s, c->key_name, c->stream);
    cJSON *msg = cJSON_ParseWithLength(text, len), *inf;
    char *out_text;
    const cJSON *seqj = cJSON_GetObjectItemCaseSensitive(msg, "seq");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(msg, "type");
    const char *why = NULL;
    uint64_t seq = 0;
    unsigned retry = 0;

    if (!a)
        goto out;
    if (cJSON_IsString(type) && !strcmp(type->valuestring, "resend")) {
        resend(c, a, msg);
        goto out;
    }
    if (cJSON_IsNumber(seqj) && seqj->valuedouble >= 1 &&
        seqj->valuedouble <= (double)SEQ_MAX &&
        seqj->valuedouble == floor(seqj->valuedouble))
        seq = (uint64_t)seqj->valuedouble;
    if (!cJSON_IsObject(msg))
        why = "record: not a JSON object";
    else if (!cJSON_IsString(type) || strcmp(type->valuestring, "frame"))
        why = "record: type is not \"frame\"";
    else if (!seq)
        why = "record: seq missing or not an integer in [1, 2^53)";
    if (!why && seq <= a->acked) {
        c->duplicates++;
        log_seq(c, "duplicate", seq, a->acked, NULL, NULL);
        send_ack(c, a->acked);
        goto out;
    }
    if (!why && ks_quota_take(c->key, (double)cloud_mono_us() / 1e6, &retry)) {
        char reason[40];

        log_seq(c, "quota", seq, a->acked, NULL, NULL);
        send_error(c, "quota", "usage quota exhausted", seq, retry);
        snprintf(reason, sizeof(reason), "retry_after=%u", retry);
        conn_close(c, 4029, reason);
        goto out;
    }
    inf = why ? NULL
              : cloud_model_infer(
                    &s->pl, cJSON_GetObjectItemCaseSensitive(msg, "frame"),
                    cJSON_GetObjectItemCaseSensitive(msg, "state"), &why);
    if (!inf) {
        log_seq(c, "malformed", seq, a->acked, "why", why);
        send_error(c, "malformed", why, seq, 0);
        /* A refused record is consumed (9.2), or it comes back forever. */
        if (seq > a->acked) {
            a->acked = seq;
            send_ack(c, seq);
        }
        goto out;
    }
    {
        const cJSON *l = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(inf, "labels"), 0);

        const cJSON *st = cJSON_GetObjectItemCaseSensitive(msg, "state");
        const cJSON *age =
            cJSON_GetObjectItemCaseSensitive(msg, "state_age_ms");
        cJSON *ev;

        a->acked = seq;
        c->accepted++;
        ev = seq_event(
            c, "accepted", seq, a->acked, "label",
            l ? cJSON_GetObjectItemCaseSensitive(l, "label")->valuestring
              : NULL);
        /* The drone state the record carried, as received (telemetry, no
         * secret), so tests can check which state was fused. */
        if (cJSON_IsObject(st))
            cJSON_AddItemToObject(ev, "state", cJSON_Duplicate(st, 1));
        if (cJSON_IsNumber(age))
            cJSON_AddNumberToObject(ev, "state_age_ms", age->valuedouble);
        simlog_emit(ev);
    }
    cJSON_AddNumberToObject(inf, "seq", (double)seq);
    out_text = cJSON_PrintUnformatted(inf);
    cJSON_Delete(inf);
    if (!out_text)
        goto out;
    cloud_keep_put(a, seq, out_text);
    if (s->o->drop_after == seq && !s->dropped_after) {
        /* Accepted and acked on our side, gone with the link before the
         * client hears of it. */
        s->dropped_after = 1;
        c->dropped = 1;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        log_seq(c, "fault", seq, a->acked, "kind", "drop-after-accept");
    } else {
        send_text(c, out_text);
        send_ack(c, seq);
    }
    cJSON_free(out_text);
out:
    cJSON_Delete(msg);
}

static void receive(cloud_conn *c, const void *in, size_t len)
{
    if (c->closing || c->dropped)
        return;
    if (lws_is_first_fragment(c->wsi)) {
        c->rx_len = 0;
        c->rx_overflow = 0;
    }
    if (!c->rx_overflow && c->rx_len + len <= CLOUD_RX_MAX) {
        char *n = realloc(c->rx, c->rx_len + len + 1);

        if (n) {
            c->rx = n;
            memcpy(c->rx + c->rx_len, in, len);
            c->rx_len += len;
        } else {
            c->rx_overflow = 1;
        }
    } else {
        c->rx_overflow = 1;
    }
    if (!lws_is_final_fragment(c->wsi))
        return;
    if (c->rx_overflow) {
        log_seq(c, "too_big", 0, 0, NULL, NULL);
        send_error(c, "too_big", "record above 64 KiB", 0, 0);
    } else {
        record(c, c->rx ? c->rx : "", c->rx_len);
    }
    c->rx_len = 0;
    c->rx_overflow = 0;
}

static int writeable(cloud_conn *c)
{
    unsigned char buf[LWS_PRE + 128];
    cloud_out *o = c->q_head;

    if (c->dropped)
        return -1;
    if (c->stalled)
        return 0;
    if (o) {
        unsigned char *b = malloc(LWS_PRE + o->len);
        int w;

        if (!b)
            return -1;
        memcpy(b + LWS_PRE, o->text, o->len);
        w = lws_write(c->wsi, b + LWS_PRE, o->len, LWS_WRITE_TEXT);
        free(b);
        if (w < (int)o->len)
            return -1;
        c->q_head = o->next;
        if (!c->q_head)
            c->q_tail = NULL;
        free(o);
        if (c->q_head || c->closing)
            lws_callback_on_writable(c->wsi);
        return 0;
    }
    if (c->closing) {
        size_t n = strlen(c->close_reason);

        memcpy(buf + LWS_PRE, c->close_reason, n);
        lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
                         buf + LWS_PRE, n);
        return -1;
    }
    return 0;
}

static void established(cloud_srv *s, cloud_conn *c, struct lws *wsi)
{
    admission r;
    cloud_ackrec *a;
    cJSON *h, *models, *ev;

    /* lws gives the session its memory only now: decide again. */
    admit(s, wsi, &r);
    c->srv = s;
    c->wsi = wsi;
    c->id = ++s->next_id;
    c->key = r.key;
    snprintf(c->key_name, sizeof(c->key_name), "%s", ks_key_name(r.key));
    snprintf(c->stream, sizeof(c->stream), "%s", r.stream);
    snprintf(c->peer, sizeof(c->peer), "%s", r.peer);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    c->linked = 1;
    a = ack_find(s, c->key_name, c->stream);
    ev = simlog_event("connect");
    cJSON_AddNumberToObject(ev, "conn", (double)c->id);
    cJSON_AddStringToObject(ev, "peer", c->peer);
    cJSON_AddStringToObject(ev, "key", c->key_name);
    cJSON_AddStringToObject(ev, "stream", c->stream);
    cJSON_AddNumberToObject(ev, "acked", a ? (double)a->acked : 0);
    simlog_emit(ev);
    simlog_info("conn %lu from %s: key %s, stream %s", c->id, c->peer,
                c->key_name, c->stream);
    h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "type", "hello");
    cJSON_AddStringToObject(h, "protocol", "scentience.cloud.v1");
    models = cJSON_AddArrayToObject(h, "models");
    cJSON_AddItemToArray(models, cJSON_CreateString(CLOUD_MODEL));
    cJSON_AddStringToObject(h, "stream", c->stream);
    cJSON_AddNumberToObject(h, "acked", a ? (double)a->acked : 0);
    send_json(c, h);
    if (s->stopping)
        conn_close(c, 1001, "going away");
    else if (r.status)
        conn_close(c, 4001, "refused");
}

static void closed(cloud_conn *c)
{
    cloud_out *o;
    cJSON *ev;

    while ((o = c->q_head)) {
        c->q_head = o->next;
        free(o);
    }
    c->q_tail = NULL;
    free(c->rx);
    c->rx = NULL;
    if (!c->linked)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->linked = 0;
    ev = simlog_event("closed");
    cJSON_AddNumberToObject(ev, "conn", (double)c->id);
    cJSON_AddNumberToObject(ev, "accepted", (double)c->accepted);
    cJSON_AddNumberToObject(ev, "duplicates", (double)c->duplicates);
    cJSON_AddBoolToObject(ev, "dropped", c->dropped);
    if (c->closing)
        cJSON_AddNumberToObject(ev, "code", c->close_code);
    simlog_emit(ev);
}

/* ---------------------------------------------------- server-wide */

static void fault_log(const char *kind, const char *source, int n)
{
    cJSON *ev = simlog_event("fault");

    cJSON_AddStringToObject(ev, "kind", kind);
    cJSON_AddStringToObject(ev, "source", source);
    cJSON_AddNumberToObject(ev, "conns", n);
    simlog_emit(ev);
}

static void drop_all(cloud_srv *s, const char *source)
{
    cloud_conn *c;
    int n = 0;

    for (c = s->conns; c; c = c->next) {
        if (c->dropped)
            continue;
        c->dropped = 1;
        /* No close frame, no flush: as a dead link. */
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        n++;
    }
    fault_log("drop", source, n);
}

static void stall_end_cb(lws_sorted_usec_list_t *sul)
{
    cloud_srv *s = lws_container_of(sul, cloud_srv, sul_stall_end);
    cloud_conn *c;

    for (c = s->conns; c; c = c->next) {
        if (!c->stalled)
            continue;
        c->stalled = 0;
        lws_rx_flow_control(c->wsi, 1);
        lws_callback_on_writable(c->wsi);
    }
    fault_log("stall_end", "timer", 0);
}

/* Neither reads nor writes for --stall-for seconds: a cloud that hangs. */
static void stall_all(cloud_srv *s)
{
    cloud_conn *c;
    int n = 0;

    for (c = s->conns; c; c = c->next) {
        if (c->closing || c->dropped)
            continue;
        c->stalled = 1;
        lws_rx_flow_control(c->wsi, 0);
        n++;
    }
    fault_log("stall", "SIGUSR1", n);
    lws_sul_schedule(s->ctx, 0, &s->sul_stall_end, stall_end_cb,
                     (lws_usec_t)(s->o->stall_for_s * 1e6));
}

static void recheck_all(cloud_srv *s)
{
    time_t now = time(NULL);
    const char *reason;
    int code;

    for (cloud_conn *c = s->conns; c; c = c->next) {
        if (c->closing || c->dropped ||
            !(code = sim_keys_close_code(c->key, c->peer, now, &reason)))
            continue;
        /* An error message says why before the close (section 9.2). */
        if (code == 4001)
            send_error(c, "revoked", reason, 0, 0);
        else if (code == 4002)
            send_error(c, "expired", reason, 0, 0);
        conn_close(c, code, reason);
    }
}

static void reload_keys(cloud_srv *s)
{
    if (sim_keys_reload(s->ks) == 0)
        recheck_all(s);
}

static void begin_stop(cloud_srv *s, const char *why)
{
    cloud_conn *c;

    if (s->stopping)
        return;
    s->stopping = 1;
    s->stop_deadline_us = cloud_mono_us() + STOP_GRACE_US;
    simlog_stopping(why);
    for (c = s->conns; c; c = c->next)
        conn_close(c, 1001, "going away");
}

static void process_signals(cloud_srv *s)
{
    if (simsig_take(SIGHUP))
        reload_keys(s);
    if (simsig_take(SIGUSR1))
        stall_all(s);
    if (simsig_take(SIGUSR2))
        drop_all(s, "SIGUSR2");
    if (simsig_take(SIGINT) | simsig_take(SIGTERM))
        begin_stop(s, "signal");
}

static void house_cb(lws_sorted_usec_list_t *sul)
{
    cloud_srv *s = lws_container_of(sul, cloud_srv, sul_house);

    process_signals(s);
    recheck_all(s);
    lws_sul_schedule(s->ctx, 0, &s->sul_house, house_cb, HOUSEKEEPING_US);
}

static void drop_cb(lws_sorted_usec_list_t *sul)
{
    cloud_srv *s = lws_container_of(sul, cloud_srv, sul_drop);

    drop_all(s, "drop-every");
    lws_sul_schedule(s->ctx, 0, &s->sul_drop, drop_cb,
                     (lws_usec_t)(s->o->drop_every_s * 1e6));
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    cloud_srv *s = ctx ? lws_context_user(ctx) : NULL;
    cloud_conn *c = user;
    admission r;

    switch (reason) {
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        if (!in || strcasecmp(in, "websocket"))
            return 0;
        admit(s, wsi, &r);
        if (!r.status)
            return 0;
        log_refused(&r);
        return cloud_http_answer(wsi, r.status, NULL, r.auth_desc,
                                 r.retry_after, 1)
                   ? -1
                   : 1;
    case LWS_CALLBACK_HTTP:
        return c ? cloud_http_request(c, s, wsi, in ? in : "") : -1;
    case LWS_CALLBACK_HTTP_BODY:
        return c ? cloud_http_body(c, in, len) : -1;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return c ? cloud_http_complete(c) : -1;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (c && !c->linked)
            cloud_http_free(c);
        return 0;
    case LWS_CALLBACK_ESTABLISHED:
        established(s, c, wsi);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c && c->linked ? writeable(c) : 0;
    case LWS_CALLBACK_RECEIVE:
        if (c && c->linked)
            receive(c, in, len);
        return 0;
    case LWS_CALLBACK_CLOSED:
        if (c)
            closed(c);
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (s)
            process_signals(s);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    {"scentience.cloud.v1", callback, sizeof(cloud_conn), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

int cloud_run(const cloud_opts *o)
{
    struct lws_context_creation_info info;
    unsigned char probe[16];
    cloud_srv s;
    char err[256];
    int family, port, rc = CLI_EX_OK;
    cJSON *ev;

    memset(&s, 0, sizeof(s));
    s.o = o;
    family = inet_pton(AF_INET, o->host, probe) == 1 ? AF_INET : AF_INET6;
    if (simlog_open(o->log_path, o->quiet))
        return CLI_EX_CANTCREAT;
    if (ks_open(&s.ks, o->keys_path, err, sizeof(err))) {
        simlog_error("cannot load keys: %s", err);
        simlog_close();
        return CLI_EX_CONFIG;
    }
    plume_init(&s.pl, o->seed);
    lws_set_log_level(LLL_ERR, sim_lws_log_line);
    memset(&info, 0, sizeof(info));
    /* Text that is not UTF-8 closes the connection with 1007: a server
     * of ours never sends it back (or anywhere). */
    info.options =
        LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (family == AF_INET)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.user = &s;
    info.max_http_header_data = 4096;
    s.ctx = lws_create_context(&info);
    if (!s.ctx) {
        simlog_error("cannot create the lws context");
        rc = CLI_EX_SOFTWARE;
        goto out;
    }
    info.vhost_name = "scn-sim-cloud";
    info.port = o->port;
    info.iface = o->host;
    info.protocols = protocols;
    s.vh = lws_create_vhost(s.ctx, &info);
    port = s.vh ? lws_get_vhost_listen_port(s.vh) : -1;
    if (port <= 0) {
        simlog_error("cannot listen on %s port %d", o->host, o->port);
        rc = CLI_EX_OSERR;
        goto out;
    }
    s.t0_us = cloud_mono_us();
    printf(family == AF_INET6 ? "scn-sim: listening on [%s]:%d\n"
                              : "scn-sim: listening on %s:%d\n",
           o->host, port);
    fflush(stdout);
    ev = simlog_event("listening");
    cJSON_AddStringToObject(ev, "mode", "cloud");
    cJSON_AddStringToObject(ev, "host", o->host);
    cJSON_AddNumberToObject(ev, "port", port);
    snprintf(err, sizeof(err), "%llu", (unsigned long long)o->seed);
    cJSON_AddStringToObject(ev, "seed", err);
    cJSON_AddBoolToObject(ev, "dev_mode", ks_is_dev(s.ks));
    simlog_emit(ev);
    simsig_set_context(s.ctx);
    lws_sul_schedule(s.ctx, 0, &s.sul_house, house_cb, HOUSEKEEPING_US);
    if (o->drop_every_s > 0)
        lws_sul_schedule(s.ctx, 0, &s.sul_drop, drop_cb,
                         (lws_usec_t)(o->drop_every_s * 1e6));
    while (!s.stopping || (s.conns && cloud_mono_us() < s.stop_deadline_us)) {
        process_signals(&s);
        if (lws_service(s.ctx, 0) < 0)
            break;
    }
    simlog_emit(simlog_event("exit"));
out:
    simsig_set_context(NULL);
    lws_sul_cancel(&s.sul_house);
    lws_sul_cancel(&s.sul_drop);
    lws_sul_cancel(&s.sul_stall_end);
    if (s.ctx)
        lws_context_destroy(s.ctx);
    while (s.acks) {
        cloud_ackrec *a = s.acks;

        s.acks = a->next;
        cloud_keep_free(a);
        free(a);
    }
    ks_free(s.ks);
    simlog_close();
    return rc;
}
