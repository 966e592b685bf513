/*
 * Live fan-out: subscriptions, the publish path and the slow-subscriber
 * notices, on top of scn_server (which owns the sockets and the queues).
 * The wire protocol is docs/PROTOCOL.md section 10.
 *
 * Locking: fo->mu guards the subscriber list, every subscription set and
 * the counters. Publishers hold it while they queue, so a subscriber's
 * handle cannot be freed under them (on_close takes it to unlink), and a
 * change of subscription is ordered against every publish: the
 * "subscribed" answer is queued before any message of the new set. Lock
 * order: fo->mu, then the server's own lock (inside scn_server_* calls).
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scentience/error.h>
#include <scentience/fanout.h>
#include <scentience/server.h>

#include "fanout_internal.h"
#include "fanout_request.h"
#include "json_check.h"
#include "server_shared.h"

/* Requests are a few hundred bytes; anything near this is not one. */
#define MAX_REQUEST_BYTES (64u * 1024)
#define ENVELOPE_HEAD     "{\"type\":\"message\",\"stream\":\""
#define ENVELOPE_MID      "\",\"data\":"

typedef struct sub {
    scn_server_conn *conn;
    char peer[48];
    bool all;
    size_t nstreams;
    char streams[SCN_FANOUT_MAX_STREAMS][SCN_FANOUT_STREAM_MAX + 1];
    uint64_t delivered;
    uint64_t bad_requests;
    /* Drops already reported to it, so each notice says what is new. */
    uint64_t dropped_notified;
    bool subscribed_once; /* no longer subject to the idle timeout */
    struct sub *next;
} sub;

struct scn_fanout {
    scn_server *srv;
    bool owns_server; /* scn_fanout_new's, not scn__fanout_attach's */
    pthread_mutex_t mu;
    sub *subs; /* connection order */
    scn_fanout_stats st;
};

/* The first version's last field: the smallest struct_size accepted. */
#define FANOUT_OPTIONS_V0 SCN_OPTIONS_END(scn_fanout_options, idle_timeout_ms)

static void fanout_defaults(scn_fanout_options *o)
{
    memset(o, 0, sizeof(*o));
    o->max_subscribers = 16;
    o->queue_msgs = 1024;
    o->queue_bytes = 4u << 20;
    o->slow_disconnect_ms = 5000;
    /* A live view redrawn 10 times a second looks live: 10 writes a
     * second per subscriber instead of one per message (about 210 a
     * second from a companion). */
    o->flush_interval_ms = 100;
    o->idle_timeout_ms = 10000;
}

void scn_fanout_options_init_sized(scn_fanout_options *o, size_t size)
{
    scn_fanout_options d;

    fanout_defaults(&d);
    scn_options_give(o, size, &d, sizeof(d));
}

static bool sub_wants(const sub *s, const char *stream)
{
    if (s->all)
        return true;
    for (size_t i = 0; i < s->nstreams; i++)
        if (strcmp(s->streams[i], stream) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */
/* ------------------------------------------------------------------ */

/* Queues a cJSON object on s and deletes it. Answers are best effort: a
 * subscriber whose queue is full loses them like any other message. */
static void send_json(sub *s, cJSON *obj)
{
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;

    if (text)
        scn_server_conn_send(s->conn, text, strlen(text), 0);
    free(text);
    cJSON_Delete(obj);
}

/* Caller holds fo->mu. */
static void send_error(scn_fanout *fo, sub *s, const char *code,
                       const char *message)
{
    cJSON *o = cJSON_CreateObject();

    fo->st.bad_requests++;
    s->bad_requests++;
    if (o) {
        cJSON_AddStringToObject(o, "type", "error");
        cJSON_AddStringToObject(o, "code", code);
        cJSON_AddStringToObject(o, "message", message);
    }
    send_json(s, o);
}

/* Caller holds fo->mu. */
static void send_subscribed(sub *s)
{
    cJSON *o = cJSON_CreateObject(), *arr;

    if (o) {
        cJSON_AddStringToObject(o, "type", "subscribed");
        arr = cJSON_AddArrayToObject(o, "streams");
        if (arr && s->all)
            cJSON_AddItemToArray(arr, cJSON_CreateString("*"));
        for (size_t i = 0; arr && i < s->nstreams; i++)
            cJSON_AddItemToArray(arr, cJSON_CreateString(s->streams[i]));
    }
    send_json(s, o);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

static void apply_subscribe(sub *s, const scn_fanout_request *req)
{
    s->all = req->all;
    s->nstreams = 0;
    if (req->all)
        return;
    for (size_t i = 0; i < req->n; i++)
        memcpy(s->streams[s->nstreams++], req->streams[i],
               sizeof(s->streams[0]));
}

static void apply_unsubscribe(sub *s, const scn_fanout_request *req)
{
    if (req->all) {
        s->all = false;
        s->nstreams = 0;
        return;
    }
    /* Under "*" there is no list to take names from: see the protocol. */
    for (size_t i = 0; i < req->n; i++) {
        for (size_t j = 0; j < s->nstreams; j++) {
            if (strcmp(s->streams[j], req->streams[i]) != 0)
                continue;
            memmove(s->streams[j], s->streams[j + 1],
                    (s->nstreams - j - 1) * sizeof(s->streams[0]));
            s->nstreams--;
            break;
        }
    }
}

static void handle_request(scn_fanout *fo, sub *s, const char *data, size_t len,
                           int is_binary)
{
    scn_fanout_request req;
    const char *why;
    const char *code =
        scn__fanout_request_parse(data, len, is_binary != 0, &req, &why);

    pthread_mutex_lock(&fo->mu);
    if (code)
        send_error(fo, s, code, why);
    else if (req.subscribe)
        apply_subscribe(s, &req);
    else
        apply_unsubscribe(s, &req);
    if (!code) {
        send_subscribed(s);
        /* A dashboard that has subscribed only reads from now on: the
         * idle timeout is for connections that never do. */
        if (!s->subscribed_once && (s->all || s->nstreams)) {
            s->subscribed_once = true;
            scn_server_conn_set_idle_timeout(s->conn, 0);
        }
    }
    pthread_mutex_unlock(&fo->mu);
}

/* ------------------------------------------------------------------ */
/* Server callbacks (loop thread)                                      */
/* ------------------------------------------------------------------ */

int scn__fanout_conn_connect(scn_fanout *fo, scn_server_conn *conn,
                             const char *peer)
{
    sub *s, **pp;

    /* NULL: the fan-out was freed while the server's free was deferred. */
    if (!fo)
        return 1;
    s = calloc(1, sizeof(*s));
    if (!s)
        return 1;
    s->conn = conn;
    snprintf(s->peer, sizeof(s->peer), "%s", peer);
    scn_server_conn_set_user(conn, s);
    pthread_mutex_lock(&fo->mu);
    for (pp = &fo->subs; *pp; pp = &(*pp)->next)
        ;
    *pp = s;
    fo->st.subscribers++;
    pthread_mutex_unlock(&fo->mu);
    return 0;
}

void scn__fanout_conn_message(scn_fanout *fo, scn_server_conn *conn,
                              const void *data, size_t len, int is_binary)
{
    sub *s = scn_server_conn_get_user(conn);

    if (fo && s)
        handle_request(fo, s, data, len, is_binary);
}

void scn__fanout_conn_close(scn_fanout *fo, scn_server_conn *conn)
{
    sub *s = scn_server_conn_get_user(conn);

    if (!fo || !s)
        return;
    pthread_mutex_lock(&fo->mu);
    for (sub **pp = &fo->subs; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            fo->st.subscribers--;
            break;
        }
    }
    pthread_mutex_unlock(&fo->mu);
    scn_server_conn_set_user(conn, NULL);
    free(s);
}

/* scn_server reports a subscriber's first drop after it had caught up:
 * tell it how many it lost since the last notice. The notice is queued
 * behind its backlog, like any message, so it arrives after what is left
 * of that backlog (the protocol says so). */
void scn__fanout_conn_error(scn_fanout *fo, scn_server_conn *conn, int err)
{
    sub *s = conn ? scn_server_conn_get_user(conn) : NULL;
    scn_server_conn_stats cs;
    char text[96];
    int n;

    if (!fo || !s || err != SCN_ERR_QUEUE_FULL)
        return;
    scn_server_conn_get_stats(conn, &cs);
    pthread_mutex_lock(&fo->mu);
    n = snprintf(text, sizeof(text),
                 "{\"type\":\"dropped\",\"count\":%" PRIu64
                 ",\"total\":%" PRIu64 "}",
                 cs.dropped - s->dropped_notified, cs.dropped);
    s->dropped_notified = cs.dropped;
    if (scn_server_conn_send(conn, text, (size_t)n, 0) == 0)
        fo->st.dropped_notices++;
    pthread_mutex_unlock(&fo->mu);
}

/* The server's callbacks when the fan-out owns it. */
static int on_connect(scn_server *srv, scn_server_conn *conn, const char *peer,
                      const char *path, void *user)
{
    (void)srv;
    (void)path;
    return scn__fanout_conn_connect(user, conn, peer);
}

static void on_message(scn_server *srv, scn_server_conn *conn, const void *data,
                       size_t len, int is_binary, void *user)
{
    (void)srv;
    scn__fanout_conn_message(user, conn, data, len, is_binary);
}

static void on_close(scn_server *srv, scn_server_conn *conn, int code,
                     void *user)
{
    (void)srv;
    (void)code;
    scn__fanout_conn_close(user, conn);
}

static void on_error(scn_server *srv, scn_server_conn *conn, int err,
                     const char *detail, void *user)
{
    (void)srv;
    (void)detail;
    scn__fanout_conn_error(user, conn, err);
}

/* ------------------------------------------------------------------ */
/* API                                                                 */
/* ------------------------------------------------------------------ */

scn_fanout *scn__fanout_attach(scn_server *srv)
{
    scn_fanout *fo = calloc(1, sizeof(*fo));

    if (!fo)
        return NULL;
    pthread_mutex_init(&fo->mu, NULL);
    fo->srv = srv;
    return fo;
}

void scn__fanout_detach(scn_fanout *fo)
{
    if (!fo)
        return;
    pthread_mutex_lock(&fo->mu);
    while (fo->subs) {
        sub *s = fo->subs;

        fo->subs = s->next;
        scn_server_conn_set_user(s->conn, NULL);
        free(s);
    }
    pthread_mutex_unlock(&fo->mu);
    pthread_mutex_destroy(&fo->mu);
    free(fo);
}

int scn_fanout_new(scn_loop *loop, const scn_fanout_options *opts,
                   scn_fanout **out)
{
    scn_fanout_options d, own;
    scn_server_options so;
    scn_fanout *fo;
    int rc;

    if (!out)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    if (!loop || !opts)
        return SCN_ERR_INVALID_ARG;
    fanout_defaults(&d);
    own = d;
    if ((rc = scn_options_take(&own, sizeof(own), FANOUT_OPTIONS_V0, opts)))
        return rc;
    opts = &own;
    fo = calloc(1, sizeof(*fo));
    if (!fo)
        return SCN_ERR_NOMEM;
    pthread_mutex_init(&fo->mu, NULL);

    scn_server_options_init(&so);
    so.bind_address = opts->bind_address;
    so.port = opts->port;
    so.path = SCN_FANOUT_PATH;
    so.subprotocol = SCN_FANOUT_SUBPROTOCOL;
    so.allow = opts->allow;
    so.allow_count = opts->allow_count;
    so.max_message_bytes = MAX_REQUEST_BYTES;
    so.max_connections =
        opts->max_subscribers ? opts->max_subscribers : d.max_subscribers;
    so.queue_msgs = opts->queue_msgs ? opts->queue_msgs : d.queue_msgs;
    so.queue_bytes = opts->queue_bytes ? opts->queue_bytes : d.queue_bytes;
    so.slow_disconnect_ms = opts->slow_disconnect_ms ? opts->slow_disconnect_ms
                                                     : d.slow_disconnect_ms;
    so.idle_timeout_ms =
        opts->idle_timeout_ms ? opts->idle_timeout_ms : d.idle_timeout_ms;
    /* A dashboard that stops reading must show up as slow within seconds,
     * not after the kernel buffered megabytes for it. */
    so.socket_send_buffer = 64 * 1024;
    so.write_interval_ms = opts->flush_interval_ms;
    so.callbacks.on_connect = on_connect;
    so.callbacks.on_message = on_message;
    so.callbacks.on_close = on_close;
    so.callbacks.on_error = on_error;
    so.user = fo;
    fo->owns_server = true;
    rc = scn_server_new(loop, &so, &fo->srv);
    if (rc) {
        pthread_mutex_destroy(&fo->mu);
        free(fo);
        return rc;
    }
    *out = fo;
    return 0;
}

void scn_fanout_free(scn_fanout *fo)
{
    scn_server *srv;
    bool own;

    if (!fo)
        return;
    /* Inside any callback of the loop, scn_server_free() is deferred and
     * the server calls back later: detach it from fo first. Its remaining
     * on_close calls then find neither fo nor a subscriber. */
    srv = fo->srv;
    own = fo->owns_server;
    if (own)
        scn__server_clear_user(srv);
    scn__fanout_detach(fo);
    if (own)
        scn_server_free(srv);
}

int scn_fanout_port(const scn_fanout *fo)
{
    return fo ? scn_server_port(fo->srv) : 0;
}

/* One complete JSON value and nothing else but whitespace. */
bool scn__json_value_ok(const char *json, size_t len)
{
    const char *end = NULL;
    cJSON *v;
    bool ok;

    /* Plain JSON is vouched for without a tree; cJSON decides the rest
     * (scn__json_check() says true only for what cJSON accepts). */
    if (scn__json_check(json, len, NULL))
        return true;
    /* cJSON stops at a NUL; a value cut short there is not the value. */
    if (len == 0 || memchr(json, '\0', len))
        return false;
    v = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    ok = v != NULL;
    cJSON_Delete(v);
    for (; ok && end < json + len; end++)
        ok = *end == ' ' || *end == '\t' || *end == '\n' || *end == '\r';
    return ok;
}

static void count_published(scn_fanout_stats *st, const char *stream)
{
    if (strcmp(stream, "olfaction") == 0)
        st->published_olfaction++;
    else if (strcmp(stream, "uav.state") == 0)
        st->published_uav_state++;
    else if (strcmp(stream, "inference") == 0)
        st->published_inference++;
    else if (strcmp(stream, "events") == 0)
        st->published_events++;
    else
        st->published_other++;
}

/* The /live envelope around json[0..len) on stream (slen bytes). */
static size_t envelope_len(size_t slen, size_t len)
{
    return sizeof(ENVELOPE_HEAD) - 1 + slen + sizeof(ENVELOPE_MID) - 1 + len +
           1;
}

/* The envelope, built once and shared by every subscriber's queue. */
static scn_shmsg *envelope(const char *stream, size_t slen, const char *json,
                           size_t len)
{
    size_t n = envelope_len(slen, len);
    scn_shmsg *env = scn__shmsg_alloc(n);
    char *p;

    if (!env)
        return NULL;
    p = (char *)env->data;
    memcpy(p, ENVELOPE_HEAD, sizeof(ENVELOPE_HEAD) - 1);
    memcpy(p + sizeof(ENVELOPE_HEAD) - 1, stream, slen);
    memcpy(p + sizeof(ENVELOPE_HEAD) - 1 + slen, ENVELOPE_MID,
           sizeof(ENVELOPE_MID) - 1);
    memcpy(p + n - 1 - len, json, len);
    p[n - 1] = '}';
    return env;
}

/* The text (when *json is NULL, made by text(arg)) and its envelope are
 * made for the first subscriber that wants stream: a stream nobody
 * watches costs no writing, allocation or copy. */
static int publish_shared(scn_fanout *fo, const char *stream, size_t slen,
                          const char *json, size_t len, scn_fanout_text_fn text,
                          void *arg)
{
    scn_server_batch b;
    scn_shmsg *env = NULL;
    int count = 0, err = 0;

    pthread_mutex_lock(&fo->mu);
    count_published(&fo->st, stream);
    for (sub *s = fo->subs; s; s = s->next) {
        int rc;

        if (!sub_wants(s, stream))
            continue;
        if (!env) {
            /* Made no longer than len_max, which fits (the caller). */
            if (!json && (err = text(arg, &json, &len)) != 0)
                break;
            if (!(env = envelope(stream, slen, json, len))) {
                err = SCN_ERR_NOMEM;
                break;
            }
            scn__server_batch_begin(fo->srv, &b);
        }
        rc = scn__server_batch_push(&b, s->conn, env, 0, NULL, 0);
        if (rc == 0) {
            count++;
            s->delivered++;
            fo->st.delivered++;
        } else if (rc != SCN_ERR_STATE) {
            /* Closing connections are simply skipped. */
            err = rc;
        }
    }
    if (env)
        scn__server_batch_end(&b);
    pthread_mutex_unlock(&fo->mu);
    scn__shmsg_unref(env);
    return err ? err : count;
}

int scn_fanout_publish(scn_fanout *fo, const char *stream, const char *json,
                       size_t len)
{
    if (!fo || !stream || !json)
        return SCN_ERR_INVALID_ARG;
    if (!scn__fanout_stream_name_ok(stream, strlen(stream)))
        return SCN_ERR_INVALID_ARG;
    if (!scn__json_value_ok(json, len))
        return SCN_ERR_MALFORMED;
    return scn__fanout_publish_valid(fo, stream, json, len);
}

int scn__fanout_publish_text(scn_fanout *fo, const char *stream, size_t len_max,
                             scn_fanout_text_fn text, void *arg)
{
    size_t slen = strlen(stream), len = 0;
    const char *json = NULL;
    int rc;

    /* Too big for any queue: refused whether or not anyone watches. */
    if (envelope_len(slen, len_max) > scn__server_queue_bytes(fo->srv)) {
        if ((rc = text(arg, &json, &len)) != 0)
            return rc;
        if (envelope_len(slen, len) > scn__server_queue_bytes(fo->srv))
            return SCN_ERR_MESSAGE_TOO_BIG;
    }
    return publish_shared(fo, stream, slen, json, len, text, arg);
}

int scn__fanout_publish_valid(scn_fanout *fo, const char *stream,
                              const char *json, size_t len)
{
    size_t slen = strlen(stream);

    if (envelope_len(slen, len) > scn__server_queue_bytes(fo->srv))
        return SCN_ERR_MESSAGE_TOO_BIG;
    return publish_shared(fo, stream, slen, json, len, NULL, NULL);
}

void scn_fanout_get_stats(scn_fanout *fo, scn_fanout_stats *out)
{
    scn_server_stats ss;

    if (!out)
        return;
    memset(out, 0, sizeof(*out));
    if (!fo)
        return;
    scn_server_get_stats(fo->srv, &ss);
    pthread_mutex_lock(&fo->mu);
    *out = fo->st;
    pthread_mutex_unlock(&fo->mu);
    out->dropped = ss.dropped_slow;
    out->written = ss.messages_out;
    out->writes = ss.writes;
    out->disconnected_slow = ss.disconnected_slow;
}

size_t scn_fanout_subscribers(scn_fanout *fo, scn_fanout_subscriber_info *out,
                              size_t cap)
{
    size_t n = 0;

    if (!fo)
        return 0;
    pthread_mutex_lock(&fo->mu);
    for (sub *s = fo->subs; s; s = s->next, n++) {
        scn_fanout_subscriber_info *i = out ? &out[n] : NULL;
        scn_server_conn_stats cs;

        if (n >= cap || !i)
            continue;
        memset(i, 0, sizeof(*i));
        scn_server_conn_get_stats(s->conn, &cs);
        snprintf(i->peer, sizeof(i->peer), "%s", s->peer);
        i->all = s->all;
        i->nstreams = s->nstreams;
        i->delivered = s->delivered;
        i->dropped = cs.dropped;
        i->queued_msgs = cs.queued_msgs;
        i->bad_requests = s->bad_requests;
    }
    pthread_mutex_unlock(&fo->mu);
    return n;
}
