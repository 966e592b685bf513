/*
 * One device connection: the stream schedule, requests (PROTOCOL.md 4),
 * replies and faults. Everything goes out from the WRITEABLE callback, one
 * lws_write per call, so a slow reader holds at most one message in lws and
 * a few due frames here; frames due beyond that are skipped and counted.
 */
#include "device.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_request.h"
#include "common/simclock.h"
#include "common/simlog.h"

static double plume_time(const dev_srv *s)
{
    return (double)(sim_mono_us() - s->base.t0_us) / 1e6;
}

static void log_fault(const dev_conn *c, const char *kind, const char *k2,
                      const char *v2, uint64_t seq, uint64_t bytes)
{
    cJSON *ev = simlog_event("fault");

    cJSON_AddStringToObject(ev, "kind", kind);
    cJSON_AddNumberToObject(ev, "conn", (double)c->h.id);
    cJSON_AddNumberToObject(ev, "seq", (double)seq);
    if (k2)
        cJSON_AddStringToObject(ev, k2, v2);
    if (bytes)
        cJSON_AddNumberToObject(ev, "bytes", (double)bytes);
    simlog_emit(ev);
}

/* Flow control: reading stops while stalled or while too many replies
 * wait, and always resumes for a closing handshake. */
static void update_rx(dev_conn *c)
{
    int want = c->h.closing || (!c->stalled && !c->rx_paused_queue);

    if (want == !c->rx_paused)
        return;
    lws_rx_flow_control(c->wsi, want);
    c->rx_paused = !want;
}

static int has_output(const dev_conn *c)
{
    return c->h.closing || c->hello_pending || c->q_len || c->oversize_after ||
           c->frames_pending;
}

static void skip(dev_conn *c, uint64_t n)
{
    /* Skipped frames use up their SEQ, so the client sees the gap. */
    c->seq += n;
    c->skipped += n;
    c->srv->total_skipped += n;
}

static void enqueue(dev_conn *c, char *text, size_t len)
{
    if (c->q_len == DEV_CTLQ_MAX) {
        free(text); /* cannot happen: reading pauses well before */
        return;
    }
    c->q[(c->q_head + c->q_len) % DEV_CTLQ_MAX] = (dev_msg){text, len};
    c->q_len++;
    if (c->q_len >= DEV_CTLQ_MAX - 4) {
        c->rx_paused_queue = 1;
        update_rx(c);
    }
    lws_callback_on_writable(c->wsi);
}

static dev_msg dequeue(dev_conn *c)
{
    dev_msg m = c->q[c->q_head];

    c->q_head = (c->q_head + 1) % DEV_CTLQ_MAX;
    c->q_len--;
    if (c->rx_paused_queue && c->q_len <= DEV_CTLQ_MAX / 2) {
        c->rx_paused_queue = 0;
        update_rx(c);
    }
    return m;
}

/* Queues a typed message; typed messages exist only in scentience.v1, so
 * a client that did not select it gets none. Takes ownership of o. */
static void enqueue_json(dev_conn *c, cJSON *o)
{
    char *text = c->v1 && o ? cJSON_PrintUnformatted(o) : NULL;

    cJSON_Delete(o);
    if (text)
        enqueue(c, text, strlen(text));
}

static int write_text(dev_conn *c, const char *text, size_t len)
{
    dev_srv *s = c->srv;
    unsigned char *buf = s->base.tx, *heap = NULL;
    int n;

    if (len > DEV_TX_CAP) {
        heap = malloc(LWS_PRE + len);
        if (!heap)
            return -1;
        buf = heap;
    }
    memcpy(buf + LWS_PRE, text, len);
    /* lws keeps what the socket does not take and holds WRITEABLE back
     * until it is out, so the buffer is free again on return. */
    n = lws_write(c->wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT);
    free(heap);
    return n < (int)len ? -1 : 0;
}

static int send_hello(dev_conn *c)
{
    const device_opts *o = c->srv->o;
    cJSON *h = cJSON_CreateObject(), *devs, *u;
    char *text;
    int i, r;

    cJSON_AddStringToObject(h, "type", "hello");
    cJSON_AddStringToObject(h, "protocol", DEV_PROTOCOL);
    cJSON_AddStringToObject(h, "uid", o->uids[c->dev]);
    devs = cJSON_AddArrayToObject(h, "devices");
    for (i = 0; i < o->n_uids; i++)
        cJSON_AddItemToArray(devs, cJSON_CreateString(o->uids[i]));
    cJSON_AddNumberToObject(h, "rate_hz", o->rate_hz);
    u = cJSON_AddObjectToObject(h, "units");
    cJSON_AddStringToObject(u, "compounds", "ppb");
    cJSON_AddStringToObject(u, "ENV_temperatureC", "degC");
    cJSON_AddStringToObject(u, "ENV_humidity", "%RH");
    cJSON_AddStringToObject(u, "ENV_pressureHpa", "hPa");
    cJSON_AddStringToObject(u, "BATT_v", "V");
    cJSON_AddStringToObject(u, "BATT_charge", "%");
    cJSON_AddStringToObject(u, "BATT_health", "%");
    cJSON_AddStringToObject(u, "BATT_time", "h");
    text = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    if (!text)
        return -1;
    r = write_text(c, text, strlen(text));
    free(text);
    return r;
}

/* The next frame, or its malformed replacement. Counts against the key's
 * quota first: an exhausted quota ends the session (4029). */
static int send_frame(dev_conn *c)
{
    dev_srv *s = c->srv;
    const faults *f = &s->o->faults;
    char ts[SIMLOG_TS_SIZE], frame[DEVFRAME_MAX], bad[DEVFRAME_MAX + 32];
    unsigned retry = 0;
    size_t n;
    int r;

    if (ks_quota_take(c->key, (double)sim_mono_us() / 1e6, &retry)) {
        char reason[64];

        snprintf(reason, sizeof(reason), "quota exhausted; retry_after=%u",
                 retry);
        dev_conn_close(c, 4029, reason);
        return 0;
    }
    c->seq++;
    simlog_timestamp(ts);
    n = devframe_build(frame, sizeof(frame), &s->base.pl, s->o->uids[c->dev],
                       c->dev, c->seq, plume_time(s), ts);
    if (!n)
        return -1;
    if (faults_frame_malformed(f, c->seq)) {
        faults_malformed k = faults_malformed_kind(c->malformed++);
        size_t m = faults_malform(k, frame, n, c->seq, bad, sizeof(bad));

        log_fault(c, "malformed", "variant", faults_malformed_name(k), c->seq,
                  0);
        r = m ? write_text(c, bad, m) : -1;
    } else {
        r = write_text(c, frame, n);
    }
    c->sent++;
    s->total_sent++;
    if (faults_oversize_after(f, c->seq))
        c->oversize_after = c->seq;
    return r;
}

static int send_oversize(dev_conn *c)
{
    uint64_t size = c->srv->o->faults.oversize_bytes;
    unsigned char *buf = malloc(LWS_PRE + size);
    size_t n;
    int w;

    if (!buf)
        return -1;
    n = faults_oversize_fill((char *)buf + LWS_PRE, size, c->oversize_after);
    log_fault(c, "oversize", NULL, NULL, c->oversize_after, n);
    w = n ? lws_write(c->wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) : -1;
    free(buf);
    c->oversize_after = 0;
    c->oversize++;
    return w < (int)n || !n ? -1 : 0;
}

static int dev_conn_writeable(sim_conn *sc)
{
    dev_conn *c = (dev_conn *)sc;
    int r = 0;

    if (c->h.closing)
        return sim_conn_close_frame(&c->h, c->wsi);
    if (c->stalled)
        return 0; /* a stalled device writes nothing */
    if (c->hello_pending) {
        c->hello_pending = 0;
        r = send_hello(c);
    } else if (c->q_len) {
        dev_msg m = dequeue(c);

        if (m.text) {
            r = write_text(c, m.text, m.len);
            free(m.text);
        } else {
            r = send_frame(c);
        }
    } else if (c->oversize_after) {
        r = send_oversize(c);
    } else if (c->frames_pending) {
        c->frames_pending--;
        r = send_frame(c);
    }
    if (r < 0)
        return -1;
    if (c->h.closing) {
        /* the quota ran out: nothing was written, close now */
        lws_close_reason(c->wsi, (enum lws_close_status)c->h.close_code,
                         (unsigned char *)c->h.close_reason,
                         strlen(c->h.close_reason));
        return -1;
    }
    if (has_output(c))
        lws_callback_on_writable(c->wsi);
    return 0;
}

/* The stream clock. It runs on the connection's own lws timer (an lws_sul
 * that lws cancels when it frees the connection, so no timer can outlive
 * the session memory). Due frames are counted against absolute deadlines,
 * so a late wake-up neither drifts the rate nor sends a burst. */
static void dev_conn_timer(dev_conn *c)
{
    int64_t now = sim_mono_us(), due;
    uint64_t take = 0, room;

    if (!c->stream_on || c->h.closing)
        return;
    if (now >= c->next_due_us) {
        due = 1 + (now - c->next_due_us) / c->period_us;
        c->next_due_us += due * c->period_us;
        if (!c->stalled) {
            room = DEV_PENDING_MAX - c->frames_pending;
            take = (uint64_t)due < room ? (uint64_t)due : room;
            c->frames_pending += (unsigned)take;
            if (take)
                lws_callback_on_writable(c->wsi);
        }
        skip(c, (uint64_t)due - take);
    }
    lws_set_timer_usecs(c->wsi, c->next_due_us - now);
}

static void stream_set(dev_conn *c, int on, double rate)
{
    int was_on = c->stream_on;

    c->stream_on = on;
    c->rate_hz = rate;
    c->period_us = llround(1e6 / rate);
    if (!on) {
        c->frames_pending = 0; /* never numbered: no gap */
        lws_set_timer_usecs(c->wsi, LWS_SET_TIMER_USEC_CANCEL);
        return;
    }
    /* Turning on sends a frame now; a new rate starts one period on. */
    c->next_due_us = sim_mono_us() + (was_on ? c->period_us : 0);
    dev_conn_timer(c);
}

static void dev_conn_open(dev_conn *c, dev_srv *srv, struct lws *wsi)
{
    c->srv = srv;
    c->wsi = wsi;
    sim_conn_link(&srv->base, &c->h);
    c->hello_pending = c->v1;
    stream_set(c, 1, srv->o->rate_hz);
    lws_callback_on_writable(wsi);
}

static void request_stream(dev_conn *c, const devreq *r)
{
    double hz = r->has_rate ? r->rate_hz : c->srv->o->rate_hz;
    cJSON *a = devreq_ack(r);

    stream_set(c, r->on, hz);
    if (a) {
        cJSON_AddNumberToObject(a, "rate_hz", hz);
        enqueue_json(c, a);
    }
}

static void log_request(const dev_conn *c)
{
    cJSON *ev = simlog_event("request");

    cJSON_AddNumberToObject(ev, "conn", (double)c->h.id);
    if (c->rx_binary || c->rx_overflow) {
        cJSON_AddNullToObject(ev, "raw");
        cJSON_AddBoolToObject(ev, "binary", c->rx_binary);
        cJSON_AddBoolToObject(ev, "too_large", c->rx_overflow);
    } else {
        cJSON_AddStringToObject(ev, "raw", c->rx ? c->rx : "");
    }
    simlog_emit(ev);
}

static void handle_request(dev_conn *c)
{
    cJSON *reply;
    devreq r;

    log_request(c);
    if (c->rx_binary) {
        enqueue_json(
            c, devreq_error("bad_request", "binary messages are not requests"));
        return;
    }
    if (c->rx_overflow) {
        enqueue_json(
            c, devreq_error("bad_request", "request larger than 65536 bytes"));
        return;
    }
    if (devreq_parse(c->rx, c->rx_len, &r, &reply)) {
        enqueue_json(c, reply);
        return;
    }
    if (r.kind == DEVREQ_SAMPLE) {
        enqueue(c, NULL, 0); /* the frame is built when it goes out */
        if ((reply = devreq_ack(&r)) != NULL)
            enqueue_json(c, reply);
    } else {
        request_stream(c, &r);
    }
}

static void dev_conn_receive(sim_conn *sc, const void *in, size_t len)
{
    dev_conn *c = (dev_conn *)sc;

    if (c->h.closing)
        return;
    if (!c->rx_started) {
        c->rx_started = 1;
        c->rx_binary = lws_frame_is_binary(c->wsi);
    }
    if (!c->rx_overflow && c->rx_len + len > DEV_RX_MAX) {
        c->rx_overflow = 1;
    } else if (!c->rx_overflow) {
        if (c->rx_len + len + 1 > c->rx_cap) {
            size_t cap = c->rx_cap ? c->rx_cap : 1024;
            char *p;

            while (cap < c->rx_len + len + 1)
                cap *= 2;
            p = realloc(c->rx, cap);
            if (!p) {
                c->rx_overflow = 1;
                goto done;
            }
            c->rx = p;
            c->rx_cap = cap;
        }
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
        c->rx[c->rx_len] = '\0';
    }
done:
    if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi))
        return;
    handle_request(c);
    c->rx_len = 0;
    if (c->rx)
        c->rx[0] = '\0';
    c->rx_started = c->rx_overflow = c->rx_binary = 0;
}

void dev_conn_close(dev_conn *c, int code, const char *reason)
{
    if (!sim_conn_closing(&c->h, code, reason))
        return;
    c->stalled = 0;
    update_rx(c);
    lws_set_timer_usecs(c->wsi, LWS_SET_TIMER_USEC_CANCEL);
    lws_callback_on_writable(c->wsi);
    /* A peer that never reads never makes us writeable: drop it then. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 3);
}

void dev_conn_drop(dev_conn *c)
{
    c->h.dropped = 1;
    /* Closes from the event loop with no close frame and no flushing, as
     * a link that dies would. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void dev_conn_stall(dev_conn *c, int64_t until_us)
{
    if (c->h.closing || c->h.dropped)
        return;
    if (!c->stalled) {
        skip(c, c->frames_pending); /* due frames are lost in a stall */
        c->frames_pending = 0;
    }
    c->stalled = 1;
    if (until_us > c->stall_until_us)
        c->stall_until_us = until_us;
    update_rx(c);
}

void dev_conn_unstall(dev_conn *c)
{
    if (!c->stalled)
        return;
    c->stalled = 0;
    c->stall_until_us = 0;
    update_rx(c);
    if (has_output(c))
        lws_callback_on_writable(c->wsi);
}

static void dev_conn_closed(sim_conn *sc)
{
    dev_conn *c = (dev_conn *)sc;
    const sim_count counts[] = {
        {"frames_sent", c->sent, "frames sent"},
        {"frames_skipped", c->skipped, "skipped"},
        {"malformed", c->malformed, NULL},
        {"oversize", c->oversize, NULL},
    };

    if (!c->h.linked)
        return;
    sim_conn_report_close(&c->srv->base, &c->h, ks_key_name(c->key), counts,
                          sizeof(counts) / sizeof(counts[0]));
    /* Freed directly: dequeue() would touch flow control of a dying wsi. */
    for (; c->q_len; c->q_len--, c->q_head = (c->q_head + 1) % DEV_CTLQ_MAX)
        free(c->q[c->q_head].text);
    free(c->rx);
    c->rx = NULL;
}

static void log_connect(const dev_conn *c, const dev_admission *r)
{
    cJSON *ev = simlog_event("connect");
    const char *uid = c->srv->o->uids[c->dev];

    cJSON_AddNumberToObject(ev, "conn", (double)c->h.id);
    cJSON_AddStringToObject(ev, "peer", c->peer);
    cJSON_AddStringToObject(ev, "key", ks_key_name(c->key));
    cJSON_AddStringToObject(ev, "uid", uid);
    if (r->v1)
        cJSON_AddStringToObject(ev, "protocol", DEV_PROTOCOL);
    else
        cJSON_AddNullToObject(ev, "protocol");
    simlog_emit(ev);
    simlog_info("conn %lu from %s: key %s, device %s%s", c->h.id, c->peer,
                ks_key_name(c->key), uid,
                r->v1 ? ", " DEV_PROTOCOL : ", no subprotocol");
}

static void established(sim_server *s, sim_conn *sc, struct lws *wsi,
                        const sim_admission *ra)
{
    dev_conn *c = (dev_conn *)sc;
    const dev_admission *r = (const dev_admission *)ra;

    c->dev = r->dev < 0 ? 0 : r->dev;
    c->key = r->a.key;
    c->v1 = r->v1;
    snprintf(c->peer, sizeof(c->peer), "%s", r->a.peer);
    dev_conn_open(c, (dev_srv *)s, wsi);
    log_connect(c, r);
}

static void timer(sim_conn *c)
{
    dev_conn_timer((dev_conn *)c);
}

static void close_conn(sim_conn *c, int code, const char *reason)
{
    dev_conn_close((dev_conn *)c, code, reason);
}

const sim_conn_ops dev_conn_ops = {
    .size = sizeof(dev_conn),
    .established = established,
    .close = close_conn,
    .writeable = dev_conn_writeable,
    .receive = dev_conn_receive,
    .timer = timer,
    .closed = dev_conn_closed,
};
