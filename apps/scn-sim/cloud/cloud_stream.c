/*
 * One /v1/stream session (PROTOCOL.md 9): hello, records, inferences,
 * acks, duplicates, resends and errors.
 *
 * Acks: the simulator acks every record at once (after its inference),
 * which satisfies "at least once a second" and keeps tests exact. It
 * keeps the newest inferences of each stream (cloud_keep.c) and sends
 * them again when a client asks ("resend").
 */
#include "cloud_sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/simclock.h"
#include "common/simlog.h"

#define SEQ_MAX ((UINT64_C(1) << 53) - 1)

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

void cloud_stream_error(cloud_conn *c, const char *code, const char *message,
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

void cloud_stream_close(cloud_conn *c, int code, const char *reason)
{
    if (!sim_conn_closing(&c->h, code, reason))
        return;
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

    cJSON_AddNumberToObject(ev, "conn", (double)c->h.id);
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
        cloud_stream_error(c, "malformed", "resend: seqs must list 1-64 seqs",
                           0, 0);
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
            cloud_stream_error(c, "gone", "no inference kept for this seq", seq,
                               0);
        }
    }
    ev = simlog_event("resend");
    cJSON_AddNumberToObject(ev, "conn", (double)c->h.id);
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
    cloud_ackrec *a = cloud_ack_find(s, c->key_name, c->stream);
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
    if (!why && ks_quota_take(c->key, (double)sim_mono_us() / 1e6, &retry)) {
        char reason[40];

        log_seq(c, "quota", seq, a->acked, NULL, NULL);
        cloud_stream_error(c, "quota", "usage quota exhausted", seq, retry);
        snprintf(reason, sizeof(reason), "retry_after=%u", retry);
        cloud_stream_close(c, 4029, reason);
        goto out;
    }
    inf = why ? NULL
              : cloud_model_infer(
                    &s->base.pl, cJSON_GetObjectItemCaseSensitive(msg, "frame"),
                    cJSON_GetObjectItemCaseSensitive(msg, "state"), &why);
    if (!inf) {
        log_seq(c, "malformed", seq, a->acked, "why", why);
        cloud_stream_error(c, "malformed", why, seq, 0);
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
    if (s->o->control_labels)
        cloud_model_control_labels(inf);
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
        cloud_stream_drop(c);
        log_seq(c, "fault", seq, a->acked, "kind", "drop-after-accept");
    } else {
        send_text(c, out_text);
        send_ack(c, seq);
    }
    cJSON_free(out_text);
out:
    cJSON_Delete(msg);
}

static void cloud_stream_receive(sim_conn *sc, const void *in, size_t len)
{
    cloud_conn *c = (cloud_conn *)sc;

    if (c->h.closing || c->h.dropped)
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
        cloud_stream_error(c, "too_big", "record above 64 KiB", 0, 0);
    } else {
        record(c, c->rx ? c->rx : "", c->rx_len);
    }
    c->rx_len = 0;
    c->rx_overflow = 0;
}

static int cloud_stream_writeable(sim_conn *sc)
{
    cloud_conn *c = (cloud_conn *)sc;
    cloud_out *o = c->q_head;

    if (c->h.dropped)
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
        if (c->q_head || c->h.closing)
            lws_callback_on_writable(c->wsi);
        return 0;
    }
    if (c->h.closing)
        return sim_conn_close_frame(&c->h, c->wsi);
    return 0;
}

static void cloud_stream_open(cloud_conn *c, cloud_srv *s, struct lws *wsi,
                              ks_key *key, const char *stream, const char *peer)
{
    cloud_ackrec *a;
    cJSON *h, *models, *ev;

    c->srv = s;
    c->wsi = wsi;
    c->key = key;
    snprintf(c->key_name, sizeof(c->key_name), "%s", ks_key_name(key));
    snprintf(c->stream, sizeof(c->stream), "%s", stream);
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    sim_conn_link(&s->base, &c->h);
    a = cloud_ack_find(s, c->key_name, c->stream);
    ev = simlog_event("connect");
    cJSON_AddNumberToObject(ev, "conn", (double)c->h.id);
    cJSON_AddStringToObject(ev, "peer", c->peer);
    cJSON_AddStringToObject(ev, "key", c->key_name);
    cJSON_AddStringToObject(ev, "stream", c->stream);
    cJSON_AddNumberToObject(ev, "acked", a ? (double)a->acked : 0);
    simlog_emit(ev);
    simlog_info("conn %lu from %s: key %s, stream %s", c->h.id, c->peer,
                c->key_name, c->stream);
    h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "type", "hello");
    cJSON_AddStringToObject(h, "protocol", CLOUD_PROTOCOL);
    models = cJSON_AddArrayToObject(h, "models");
    cJSON_AddItemToArray(models, cJSON_CreateString(CLOUD_MODEL));
    cJSON_AddStringToObject(h, "stream", c->stream);
    cJSON_AddNumberToObject(h, "acked", a ? (double)a->acked : 0);
    send_json(c, h);
}

static void cloud_stream_closed(sim_conn *sc)
{
    cloud_conn *c = (cloud_conn *)sc;
    cloud_out *o;
    cJSON *ev;

    while ((o = c->q_head)) {
        c->q_head = o->next;
        free(o);
    }
    c->q_tail = NULL;
    free(c->rx);
    c->rx = NULL;
    if (!c->h.linked)
        return;
    sim_conn_unlink(&c->srv->base, &c->h);
    ev = simlog_event("closed");
    cJSON_AddNumberToObject(ev, "conn", (double)c->h.id);
    cJSON_AddNumberToObject(ev, "accepted", (double)c->accepted);
    cJSON_AddNumberToObject(ev, "duplicates", (double)c->duplicates);
    cJSON_AddBoolToObject(ev, "dropped", c->h.dropped);
    if (c->h.closing)
        cJSON_AddNumberToObject(ev, "code", c->h.close_code);
    simlog_emit(ev);
}

void cloud_stream_drop(cloud_conn *c)
{
    c->h.dropped = 1;
    /* No close frame, no flush: as a dead link. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void cloud_stream_stall(cloud_conn *c, int on)
{
    c->stalled = on;
    lws_rx_flow_control(c->wsi, !on);
    if (!on)
        lws_callback_on_writable(c->wsi);
}

static void established(sim_server *s, sim_conn *c, struct lws *wsi,
                        const sim_admission *r)
{
    cloud_stream_open((cloud_conn *)c, (cloud_srv *)s, wsi, r->key,
                      ((const cloud_admission *)r)->stream, r->peer);
}

/* Whatever the handshake now says, the close says "refused". */
static int refusal(const sim_admission *r, const char **reason)
{
    *reason = "refused";
    return r->status ? 4001 : 0;
}

static void close_conn(sim_conn *c, int code, const char *reason)
{
    cloud_stream_close((cloud_conn *)c, code, reason);
}

const sim_conn_ops cloud_stream_ops = {
    .size = sizeof(cloud_conn),
    .established = established,
    .refusal = refusal,
    .close = close_conn,
    .writeable = cloud_stream_writeable,
    .receive = cloud_stream_receive,
    .closed = cloud_stream_closed,
};
