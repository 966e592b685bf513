/*
 * Sessions: the public API, option handling, queues and inbound delivery.
 * Everything that touches libwebsockets is in ws_adapter.c.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "frame_internal.h"
#include "request.h"
#include "session_internal.h"

#define DEF(field, value)                                                      \
    do {                                                                       \
        if (!(field))                                                          \
            (field) = (value);                                                 \
    } while (0)

const char *scn_state_name(scn_state state)
{
    static const char *const names[] = {"idle",         "connecting", "open",
                                        "reconnecting", "closing",    "closed",
                                        "failed"};
    if ((unsigned)state < sizeof(names) / sizeof(names[0]))
        return names[state];
    return "?";
}

/* The first version's last field: the smallest struct_size accepted. */
#define SESSION_OPTIONS_V0 SCN_OPTIONS_END(scn_session_options, user)

static void session_defaults(scn_session_options *o)
{
    memset(o, 0, sizeof(*o));
    o->backoff.initial_ms = 500;
    o->backoff.max_ms = 30000;
    o->backoff.factor = 2.0;
    o->backoff.healthy_ms = 10000;
    o->ping_interval_ms = 5000;
    o->idle_timeout_ms = 15000;
    o->connect_timeout_ms = 10000;
    o->max_message_bytes = 1u << 20;
    o->control_queue_msgs = 256;
    o->control_queue_bytes = 1u << 20;
    o->telemetry_queue_msgs = 1024;
    o->telemetry_queue_bytes = 4u << 20;
    o->inbound_queue_msgs = 256;
    o->inbound_queue_bytes = 2u << 20;
}

void scn_session_options_init_sized(scn_session_options *o, size_t size)
{
    scn_session_options d;

    session_defaults(&d);
    scn_options_give(o, size, &d, sizeof(d));
}

static void apply_defaults(scn_session_options *o)
{
    scn_session_options d;

    scn_session_options_init(&d);
    DEF(o->ping_interval_ms, d.ping_interval_ms);
    DEF(o->idle_timeout_ms, d.idle_timeout_ms);
    DEF(o->connect_timeout_ms, d.connect_timeout_ms);
    DEF(o->max_message_bytes, d.max_message_bytes);
    DEF(o->control_queue_msgs, d.control_queue_msgs);
    DEF(o->control_queue_bytes, d.control_queue_bytes);
    DEF(o->telemetry_queue_msgs, d.telemetry_queue_msgs);
    DEF(o->telemetry_queue_bytes, d.telemetry_queue_bytes);
    DEF(o->inbound_queue_msgs, d.inbound_queue_msgs);
    DEF(o->inbound_queue_bytes, d.inbound_queue_bytes);
    size_t total = o->control_queue_bytes + o->telemetry_queue_bytes;
    DEF(o->queue_high_water, total / 4 * 3);
    DEF(o->queue_low_water, total / 4);
}

static int dup_opt(const char *in, char **out)
{
    *out = NULL;
    if (!in)
        return 0;
    *out = strdup(in);
    return *out ? 0 : SCN_ERR_NOMEM;
}

/* Resolves the key from option, environment or file. The environment and
 * the file are read again at every attempt (rotation). */
int scn__session_load_key(scn_session *s)
{
    const char *source = NULL;
    int rc;

    if (s->opts.no_key)
        return 0;
    rc = scn__key_resolve(s->key, s->opts.api_key, getenv("SCENTIENCE_API_KEY"),
                          s->key_file, getenv("XDG_CONFIG_HOME"),
                          getenv("HOME"), &source);
    if (rc == 0) {
        s->key_source = source;
        scn__key_redact(scn__secret_str(s->key), scn__secret_len(s->key),
                        s->key_redacted);
    }
    return rc;
}

/* The loop's view of a session (scn_loop_child). */
static void session_child_destroy(scn_loop_child *c)
{
    scn__session_destroy(SCN_CONTAINER_OF(c, scn_session, child));
}

static bool session_child_busy(scn_loop_child *c)
{
    const scn_session *s = SCN_CONTAINER_OF(c, scn_session, child);

    return s->fsm.state != SCN_STATE_CLOSED && s->fsm.state != SCN_STATE_FAILED;
}

int scn_session_options_copy(scn_session_options *dst,
                             const scn_session_options *src)
{
    int rc;

    if (!dst)
        return SCN_ERR_INVALID_ARG;
    session_defaults(dst);
    if (src && (rc = scn_options_take(dst, sizeof(*dst), SESSION_OPTIONS_V0,
                                      src)) != 0)
        return rc;
    dst->struct_size = sizeof(*dst);
    return 0;
}

int scn_session_new(scn_loop *loop, const scn_session_options *opts,
                    scn_session **out)
{
    scn_session_options own;
    scn_session *s;
    scn_outq_limits lim;
    scn_fsm_config fc;
    int rc;

    if (!loop || !opts || !out)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    if ((rc = scn_session_options_copy(&own, opts)))
        return rc;
    opts = &own;
    if (!opts->url || opts->connect_timeout_ms > SCN_CONNECT_TIMEOUT_MAX_MS)
        return SCN_ERR_INVALID_ARG;
    if (!scn__loop_on_thread(loop))
        return SCN_ERR_STATE;
    s = calloc(1, sizeof(*s));
    if (!s)
        return SCN_ERR_NOMEM;
    s->loop = loop;
    s->opts = *opts;
    apply_defaults(&s->opts);
    pthread_mutex_init(&s->mu, NULL);
    s->stream_on = -1;

    rc = scn__url_parse(opts->url, &s->url);
    if (rc)
        goto fail;
    if (opts->device_uid && *opts->device_uid) {
        rc = scn__url_add_query(&s->url, "uid", opts->device_uid);
        if (rc)
            goto fail;
    }
    if ((rc = dup_opt(opts->url, &s->url_text)) ||
        (rc = dup_opt(opts->key_file, &s->key_file)) ||
        (rc = dup_opt(opts->device_uid, &s->device_uid)) ||
        (rc = dup_opt(opts->ca_file, &s->ca_file)) ||
        (rc = dup_opt(opts->client_cert_file, &s->cert_file)) ||
        (rc = dup_opt(opts->client_key_file, &s->key_path)) ||
        (rc = dup_opt(opts->subprotocol ? opts->subprotocol
                                        : SCN_SUBPROTOCOL_NAME,
                      &s->subprotocol_offer)))
        goto fail;
    /* Our copies replace the caller's pointers; the key is held only in the
     * secret page. */
    s->opts.url = s->url_text;
    s->opts.key_file = s->key_file;
    s->opts.device_uid = s->device_uid;
    s->opts.ca_file = s->ca_file;
    s->opts.client_cert_file = s->cert_file;
    s->opts.client_key_file = s->key_path;
    s->opts.subprotocol = s->subprotocol_offer;

    if ((rc = scn__secret_new(&s->key)))
        goto fail;
    rc = scn__session_load_key(s);
    s->opts.api_key = NULL;
    if (rc)
        goto fail;

    lim.control_msgs = s->opts.control_queue_msgs;
    lim.control_bytes = s->opts.control_queue_bytes;
    lim.telemetry_msgs = s->opts.telemetry_queue_msgs;
    lim.telemetry_bytes = s->opts.telemetry_queue_bytes;
    lim.high_water = s->opts.queue_high_water;
    lim.low_water = s->opts.queue_low_water;
    if ((rc = scn__outq_init(&s->outq, &lim, scn__ws_headroom())))
        goto fail;
    if ((rc = scn__inq_init(&s->inq, s->opts.inbound_queue_msgs,
                            s->opts.inbound_queue_bytes,
                            s->opts.max_message_bytes)))
        goto fail_outq;
    if ((rc = scn_frame_new(&s->frame)))
        goto fail_inq;
    if ((rc = scn__ws_attach(s))) {
        scn_frame_free(s->frame);
        goto fail_inq;
    }

    memset(&fc, 0, sizeof(fc));
    fc.backoff = s->opts.backoff;
    fc.ping_interval_ms = s->opts.ping_interval_ms;
    fc.idle_timeout_ms = s->opts.idle_timeout_ms;
    fc.connect_timeout_ms = s->opts.connect_timeout_ms;
    fc.seed = opts->random_seed ? opts->random_seed : scn__rng_os_seed();
    scn__fsm_init(&s->fsm, &fc);

    if (opts->stream_rate_hz > 0) {
        s->stream_on = 1;
        s->stream_rate = opts->stream_rate_hz;
    }

    s->child.destroy = session_child_destroy;
    s->child.busy = session_child_busy;
    s->child.wake = scn__ws_wake;
    scn__loop_adopt(loop, &s->child);
    /* No callback runs inside scn_session_new: the CONNECTING report and the
     * first connection happen on the loop's next turn. */
    s->start_tr = scn__fsm_start(&s->fsm, scn_loop_now_ms(loop));
    s->start_pending = true;
    scn__session_schedule(s, 0);
    *out = s;
    return 0;

fail_inq:
    scn__inq_free(&s->inq);
fail_outq:
    scn__outq_free(&s->outq);
fail:
    scn__secret_free(s->key);
    free(s->url_text);
    free(s->key_file);
    free(s->device_uid);
    free(s->ca_file);
    free(s->cert_file);
    free(s->key_path);
    free(s->subprotocol_offer);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return rc;
}

void scn__session_destroy(scn_session *s)
{
    size_t dropped;

    scn__lws_timer_cancel(s->timer);
    scn__ws_detach(s);
    scn__loop_disown(s->loop, &s->child);
    dropped = scn__outq_clear(&s->outq);
    (void)dropped;
    scn__outq_free(&s->outq);
    scn__inq_free(&s->inq);
    scn_frame_free(s->frame);
    free(s->rxbuf);
    scn__ws_release(s);
    scn__secret_free(s->key);
    free(s->url_text);
    free(s->key_file);
    free(s->device_uid);
    free(s->ca_file);
    free(s->cert_file);
    free(s->key_path);
    free(s->subprotocol_offer);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void scn_session_free(scn_session *s)
{
    if (!s)
        return;
    if (s->cb_depth > 0) {
        s->free_pending = true;
        return;
    }
    scn__session_destroy(s);
}

bool scn__session_reap(scn_session *s)
{
    if (s->free_pending && s->cb_depth == 0) {
        scn__session_destroy(s);
        return true;
    }
    return false;
}

void scn__session_notify(scn_session *s, const scn_transition *tr,
                         int http_status, int close_code)
{
    scn_state_event ev;

    if (!tr->changed)
        return;
    pthread_mutex_lock(&s->mu);
    s->stats.current_backoff_ms =
        tr->state == SCN_STATE_RECONNECTING ? tr->delay_ms : 0;
    pthread_mutex_unlock(&s->mu);
    scn__log(&s->loop->log,
             tr->state == SCN_STATE_FAILED ? SCN_LOG_WARN : SCN_LOG_INFO,
             "session", "%s -> %s%s%s (delay %u ms, attempt %u)",
             scn_state_name(tr->previous), scn_state_name(tr->state),
             tr->reason ? ": " : "", tr->reason ? scn_strerror(tr->reason) : "",
             tr->delay_ms, tr->attempt);
    if (!s->opts.callbacks.on_state)
        return;
    memset(&ev, 0, sizeof(ev));
    ev.state = tr->state;
    ev.previous = tr->previous;
    ev.reason = tr->reason;
    ev.last_error = tr->last_error;
    ev.delay_ms = tr->delay_ms;
    ev.attempt = tr->attempt;
    ev.http_status = http_status;
    ev.close_code = close_code;
    SCN_USER_CALL(s, s->opts.callbacks.on_state(s, &ev, s->opts.user));
}

void scn__session_report(scn_session *s, int err, const char *detail)
{
    scn__log(&s->loop->log, SCN_LOG_WARN, "session", "%s: %s",
             scn_strerror(err), detail ? detail : "");
    if (!s->opts.callbacks.on_error)
        return;
    SCN_USER_CALL(s, s->opts.callbacks.on_error(s, err, detail ? detail : "",
                                                s->opts.user));
}

static void count(scn_session *s, uint64_t *counter)
{
    pthread_mutex_lock(&s->mu);
    (*counter)++;
    pthread_mutex_unlock(&s->mu);
}

/* A valid frame arrived on connection conn: when frames had come on an
 * earlier one, the stream has a hole no seq gap shows (SEQ restarts with
 * every connection). Returns whether *d describes one. Delivering thread
 * only; the counters are the caller's, under the lock. */
static bool discontinuity(scn_session *s, uint64_t conn, uint64_t seq,
                          scn_discontinuity *d)
{
    uint64_t now = scn_loop_now_ms(s->loop);
    uint64_t gap = now - s->last_frame_ms;
    bool hole = s->last_frame_conn && conn != s->last_frame_conn;

    if (hole) {
        memset(d, 0, sizeof(*d));
        d->gap_ms = gap > UINT32_MAX ? UINT32_MAX : (uint32_t)gap;
        d->reconnects = (uint32_t)(conn - s->last_frame_conn);
        d->last_seq = s->last_frame_seq;
        d->first_seq = seq;
        d->last_ns = s->last_frame_ns;
        d->first_ns = scn_frame_timestamp_ns(s->frame);
    }
    s->last_frame_conn = conn;
    s->last_frame_ms = now;
    s->last_frame_seq = seq;
    s->last_frame_ns = scn_frame_timestamp_ns(s->frame);
    return hole;
}

/* s->frame was filled by scn__frame_parse_inbound(); rc is its verdict.
 * The counters take one lock per frame. */
static void deliver_frame(scn_session *s, int rc, uint64_t conn)
{
    scn_discontinuity d;
    uint64_t seq = 0;
    bool hole = false;

    pthread_mutex_lock(&s->mu);
    if (rc) {
        s->stats.malformed_in++;
    } else {
        s->stats.frames_in++;
        if (scn_frame_seq(s->frame, &seq) == 0) {
            if (s->expect_seq && seq > s->expect_seq)
                s->stats.seq_gaps += seq - s->expect_seq;
            s->expect_seq = seq + 1;
        }
        hole = discontinuity(s, conn, seq, &d);
        if (hole) {
            s->stats.discontinuities++;
            s->stats.discontinuity_ms += d.gap_ms;
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (rc) {
        scn__session_report(s, rc, "device frame rejected");
        return;
    }
    if (hole) {
        scn__log(&s->loop->log, SCN_LOG_WARN, "session",
                 "stream discontinuous: %u ms without frames across %u "
                 "reconnect(s)",
                 d.gap_ms, d.reconnects);
        if (s->opts.callbacks.on_discontinuity)
            SCN_USER_CALL(
                s, s->opts.callbacks.on_discontinuity(s, &d, s->opts.user));
    }
    if (s->opts.callbacks.on_frame)
        SCN_USER_CALL(s, s->opts.callbacks.on_frame(s, s->frame, s->opts.user));
}

static bool known_type(const char *type)
{
    return strcmp(type, "hello") == 0 || strcmp(type, "ack") == 0 ||
           strcmp(type, "error") == 0;
}

/* A device "error" message's text, for the log. Error messages are rare,
 * so their "message" member is read with cJSON rather than taught to the
 * frame tokenizer. */
static void log_device_error(scn_session *s, const unsigned char *data,
                             size_t len)
{
    cJSON *root = NULL, *msg;

    (void)scn__frame_json_parse((const char *)data, len, &root);
    msg = cJSON_GetObjectItemCaseSensitive(root, "message");
    scn__log(&s->loop->log, SCN_LOG_WARN, "session", "device error: %.200s",
             cJSON_IsString(msg) ? msg->valuestring : "(no message)");
    cJSON_Delete(root);
}

void scn__session_deliver(scn_session *s, const unsigned char *data, size_t len,
                          uint64_t conn)
{
    scn_frame_route route;
    const char *type;
    int rc;

    if (s->opts.raw_text) {
        if (s->opts.callbacks.on_text)
            SCN_USER_CALL(s, s->opts.callbacks.on_text(s, (const char *)data,
                                                       len, s->opts.user));
        return;
    }
    /* One pass parses a device frame and finds "type" for routing. */
    rc = scn__frame_parse_inbound(s->frame, (const char *)data, len, &route,
                                  &type);
    switch (route) {
    case SCN_ROUTE_FRAME:
        deliver_frame(s, rc, conn);
        return;
    case SCN_ROUTE_INVALID:
        count(s, &s->stats.malformed_in);
        scn__session_report(s, rc, "inbound message is not a JSON object");
        return;
    case SCN_ROUTE_BAD_TYPE:
        count(s, &s->stats.malformed_in);
        scn__session_report(s, SCN_ERR_WRONG_TYPE, "\"type\" is not a string");
        return;
    case SCN_ROUTE_MESSAGE:
        break;
    }
    if (!known_type(type)) {
        count(s, &s->stats.unknown_type_in);
        scn__log(&s->loop->log, SCN_LOG_DEBUG, "session",
                 "ignoring message of unknown type");
    } else if (strcmp(type, "error") == 0) {
        log_device_error(s, data, len);
    }
    if (s->opts.callbacks.on_message)
        SCN_USER_CALL(s, s->opts.callbacks.on_message(
                             s, type, (const char *)data, len, s->opts.user));
}

/* Wakes the loop thread to write, or asks lws directly when on it. */
static void kick_writer(scn_session *s)
{
    if (scn__loop_on_thread(s->loop) && s->wsi)
        scn__ws_want_write(s);
    else
        scn__lws_wake(s->loop);
}

static int enqueue(scn_session *s, scn_lane lane, const char *data, size_t len,
                   bool from_user, bool urgent, uint64_t *ticket)
{
    size_t dropped = 0;
    int wm = SCN_WM_NONE, rc;
    scn_state st;

    pthread_mutex_lock(&s->mu);
    st = s->fsm.state;
    if (from_user && (st == SCN_STATE_CLOSED || st == SCN_STATE_FAILED ||
                      st == SCN_STATE_CLOSING)) {
        pthread_mutex_unlock(&s->mu);
        return SCN_ERR_STATE;
    }
    if (ticket) {
        *ticket = s->next_ticket + 1;
        rc = scn__outq_push_tagged(&s->outq, urgent, data, len, *ticket, &wm);
        if (rc == 0)
            s->next_ticket++;
    } else if (urgent) {
        rc = scn__outq_push_urgent(&s->outq, data, len, &wm);
    } else {
        rc = scn__outq_push(&s->outq, lane, data, len, &dropped, &wm);
    }
    s->stats.dropped_telemetry += dropped;
    if (rc == SCN_ERR_QUEUE_FULL)
        s->stats.rejected_control++;
    if (rc == 0)
        s->want_write = true;
    pthread_mutex_unlock(&s->mu);
    if (rc == 0)
        kick_writer(s);
    /* Crossing reported on the loop thread only, per the contract; other
     * threads see it through scn_session_get_stats() (queued_bytes). */
    if (wm == SCN_WM_HIGH && s->opts.callbacks.on_watermark &&
        scn__loop_on_thread(s->loop))
        SCN_USER_CALL(s, s->opts.callbacks.on_watermark(s, 1, s->opts.user));
    return rc;
}

int scn_session_send(scn_session *s, scn_lane lane, const char *data,
                     size_t len)
{
    if (!s || !data || (lane != SCN_LANE_CONTROL && lane != SCN_LANE_TELEMETRY))
        return SCN_ERR_INVALID_ARG;
    return enqueue(s, lane, data, len, true, false, NULL);
}

int scn_session_send_urgent(scn_session *s, const char *data, size_t len)
{
    if (!s || !data)
        return SCN_ERR_INVALID_ARG;
    return enqueue(s, SCN_LANE_CONTROL, data, len, true, true, NULL);
}

int scn_session_send_tracked(scn_session *s, int urgent, const char *data,
                             size_t len, uint64_t *ticket)
{
    if (!s || !data || !ticket)
        return SCN_ERR_INVALID_ARG;
    return enqueue(s, SCN_LANE_CONTROL, data, len, true, urgent != 0, ticket);
}

/* Request ids are per session; any thread may ask. */
static uint32_t next_request_id(scn_session *s)
{
    uint32_t id;

    pthread_mutex_lock(&s->mu);
    id = ++s->next_request_id;
    pthread_mutex_unlock(&s->mu);
    return id;
}

int scn_session_request_sample(scn_session *s)
{
    char buf[SCN_REQUEST_MAX];
    size_t len;
    uint32_t id;
    int rc;

    if (!s)
        return SCN_ERR_INVALID_ARG;
    id = next_request_id(s);
    rc = scn__request_sample(buf, sizeof(buf), id, &len);
    return rc ? rc : enqueue(s, SCN_LANE_CONTROL, buf, len, true, false, NULL);
}

int scn_session_request_stream(scn_session *s, int on, double rate_hz)
{
    char buf[SCN_REQUEST_MAX];
    size_t len;
    uint32_t id;
    int rc;

    if (!s)
        return SCN_ERR_INVALID_ARG;
    id = next_request_id(s);
    rc = scn__request_stream(buf, sizeof(buf), on, rate_hz, id, &len);
    if (rc)
        return rc;
    pthread_mutex_lock(&s->mu);
    s->stream_on = on ? 1 : 0;
    s->stream_rate = rate_hz;
    pthread_mutex_unlock(&s->mu);
    return enqueue(s, SCN_LANE_CONTROL, buf, len, true, false, NULL);
}

void scn__session_restore_requests(scn_session *s)
{
    char buf[SCN_REQUEST_MAX];
    size_t len;
    int on;
    double rate;

    pthread_mutex_lock(&s->mu);
    on = s->stream_on;
    rate = s->stream_rate;
    pthread_mutex_unlock(&s->mu);
    if (on < 0)
        return;
    if (scn__request_stream(buf, sizeof(buf), on, rate, 0, &len) == 0)
        enqueue(s, SCN_LANE_CONTROL, buf, len, false, false, NULL);
}

int scn_session_close(scn_session *s)
{
    scn_state st;

    if (!s)
        return SCN_ERR_INVALID_ARG;
    pthread_mutex_lock(&s->mu);
    st = s->fsm.state;
    if (st == SCN_STATE_CLOSED || st == SCN_STATE_FAILED ||
        st == SCN_STATE_CLOSING || s->want_close) {
        pthread_mutex_unlock(&s->mu);
        return SCN_ERR_STATE;
    }
    s->want_close = true;
    pthread_mutex_unlock(&s->mu);
    if (scn__loop_on_thread(s->loop))
        scn__session_service(s);
    else
        scn__lws_wake(s->loop);
    return 0;
}

int scn_session_dispatch(scn_session *s, size_t max)
{
    scn_msg msg;
    int event = SCN_INQ_NONE, n = 0;

    if (!s)
        return SCN_ERR_INVALID_ARG;
    if (!s->opts.manual_dispatch)
        return SCN_ERR_STATE;
    while ((size_t)n < max) {
        bool got;

        pthread_mutex_lock(&s->mu);
        got = scn__inq_take(&s->inq, &msg, &event);
        s->stats.inbound_queued_msgs = scn__inq_count(&s->inq);
        if (event == SCN_INQ_RESUME)
            s->want_resume = true;
        pthread_mutex_unlock(&s->mu);
        if (!got)
            break;
        if (event == SCN_INQ_RESUME)
            scn__lws_wake(s->loop);
        scn__session_deliver(s, msg.buf + s->inq.q.headroom, msg.len, msg.tag);
        free(msg.buf);
        n++;
    }
    return n;
}

scn_state scn_session_state(const scn_session *s)
{
    return s ? s->fsm.state : SCN_STATE_CLOSED;
}

void scn_session_get_stats(scn_session *s, scn_session_stats *out)
{
    if (!s || !out)
        return;
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    out->queued_msgs = scn__outq_count(&s->outq);
    out->queued_bytes = scn__outq_bytes(&s->outq);
    out->inbound_queued_msgs = scn__inq_count(&s->inq);
    out->dropped_telemetry = s->stats.dropped_telemetry;
    pthread_mutex_unlock(&s->mu);
}

const char *scn_session_key_redacted(const scn_session *s)
{
    return s ? s->key_redacted : "";
}

const char *scn_session_subprotocol(const scn_session *s)
{
    return s ? s->subprotocol : "";
}
