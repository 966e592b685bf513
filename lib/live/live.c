/*
 * The live listener: one scn_server with two WebSocket routes and the
 * dashboard's files. /live connections go to the fan-out (fanout.c,
 * attached to this server); "/" connections speak Foxglove (the codec is
 * foxglove.c; the clients, their subscriptions and the channels are
 * kept here).
 *
 * Locking: live->mu guards the channels, the Foxglove clients and their
 * subscriptions and the counters; publishers hold it while they queue, so
 * a client cannot be freed under them and a subscription change is
 * ordered against every publish. Lock order: live->mu, then the fan-out's
 * and the server's own locks (inside their calls).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <scentience/error.h>
#include <scentience/live.h>

#include "fanout_internal.h"
#include "foxglove.h"
#include "frame_internal.h"
#include "http_access.h"
#include "server_shared.h"
#include "shmsg.h"

#define ROUTE_LIVE     0
#define ROUTE_FOXGLOVE 1
/* Subscriptions one Foxglove client may hold. */
#define FG_SUBS_MAX 64
#define TOPIC_MAX   255
/* Foxglove requests are small; anything near this is not one. */
#define MAX_REQUEST_BYTES (64u * 1024)

typedef struct channel {
    uint32_t id;
    char *topic, *schema_name, *schema;
    struct channel *next;
} channel;

typedef struct fg_client {
    scn_server_conn *conn;
    size_t nsubs;
    struct {
        uint32_t sub_id, channel_id;
    } subs[FG_SUBS_MAX];
    bool subscribed_once; /* no longer subject to the idle timeout */
    uint64_t dropped_notified;
    struct fg_client *next;
} fg_client;

struct scn_live {
    scn_server *srv;
    scn_fanout *fo;
    char *name;
    char session[32];
    pthread_mutex_t mu;
    channel *channels; /* in the order added */
    uint32_t next_id;
    fg_client *clients;
    uint64_t published, delivered, bad_requests;
};

static const char *const live_protocols[] = {SCN_FANOUT_SUBPROTOCOL};
/* The server's preference: the current name first. */
static const char *const fg_protocols[] = {SCN_FG_SUBPROTOCOL_SDK,
                                           SCN_FG_SUBPROTOCOL};

/* The first version's last field: the smallest struct_size accepted. */
#define LIVE_OPTIONS_V0 SCN_OPTIONS_END(scn_live_options, name)

static void live_defaults(scn_live_options *o)
{
    memset(o, 0, sizeof(*o));
    o->max_connections = 64;
    o->max_per_address = 16;
    o->idle_timeout_ms = 10000;
    o->ping_interval_ms = 15000;
    o->queue_msgs = 1024;
    o->queue_bytes = 4u << 20;
    o->slow_disconnect_ms = 5000;
    o->flush_interval_ms = 100;
}

void scn_live_options_init_sized(scn_live_options *o, size_t size)
{
    scn_live_options d;

    live_defaults(&d);
    scn_options_give(o, size, &d, sizeof(d));
}

int scn_live_token_ok(const char *token)
{
    return token && scn__token_format_ok(token, strlen(token));
}

/* ------------------------------------------------------------------ */
/* Foxglove clients (loop thread, under mu where shared)               */
/* ------------------------------------------------------------------ */

/* Sends text to one client; best effort, like every answer. */
static void fg_send_text(scn_server_conn *conn, char *text)
{
    if (text)
        scn_server_conn_send(conn, text, strlen(text), 0);
    free(text);
}

static void fg_status(scn_live *live, fg_client *c, int level,
                      const char *message)
{
    if (level == SCN_FG_ERROR)
        live->bad_requests++;
    fg_send_text(c->conn, scn__fg_status(level, message));
}

/* Advertises every channel to one client, 64 to a message (a fleet has a
 * channel per drone and stream: hundreds). Caller holds mu. */
static void advertise_all(scn_live *live, scn_server_conn *conn)
{
    scn_fg_channel ch[64];
    size_t n = 0;

    for (channel *c = live->channels; c; c = c->next) {
        ch[n].id = c->id;
        ch[n].topic = c->topic;
        ch[n].schema_name = c->schema_name;
        ch[n].schema = c->schema;
        if (++n == sizeof(ch) / sizeof(ch[0]) || !c->next) {
            fg_send_text(conn, scn__fg_advertise(ch, n));
            n = 0;
        }
    }
}

static int fg_connect(scn_live *live, scn_server_conn *conn)
{
    fg_client *c = calloc(1, sizeof(*c)), **pp;

    if (!c)
        return 1;
    c->conn = conn;
    scn_server_conn_set_user(conn, c);
    pthread_mutex_lock(&live->mu);
    for (pp = &live->clients; *pp; pp = &(*pp)->next)
        ;
    *pp = c;
    /* Queued now, written once the handshake is done: serverInfo, then
     * every channel. */
    fg_send_text(conn, scn__fg_server_info(live->name, live->session));
    advertise_all(live, conn);
    pthread_mutex_unlock(&live->mu);
    return 0;
}

static channel *find_channel(scn_live *live, uint32_t id)
{
    for (channel *c = live->channels; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

static int find_sub(const fg_client *c, uint32_t sub_id)
{
    for (size_t i = 0; i < c->nsubs; i++)
        if (c->subs[i].sub_id == sub_id)
            return (int)i;
    return -1;
}

/* Caller holds mu. */
static void fg_subscribe(scn_live *live, fg_client *c, const scn_fg_request *r)
{
    char msg[128];

    for (size_t i = 0; i < r->n; i++) {
        bool dup_channel = false;

        if (!find_channel(live, r->channel_id[i])) {
            snprintf(msg, sizeof(msg), "channel %u is not advertised",
                     (unsigned)r->channel_id[i]);
            fg_status(live, c, SCN_FG_ERROR, msg);
            continue;
        }
        if (find_sub(c, r->sub_id[i]) >= 0) {
            snprintf(msg, sizeof(msg), "subscription id %u is in use",
                     (unsigned)r->sub_id[i]);
            fg_status(live, c, SCN_FG_ERROR, msg);
            continue;
        }
        for (size_t j = 0; j < c->nsubs; j++)
            dup_channel =
                dup_channel || c->subs[j].channel_id == r->channel_id[i];
        if (dup_channel) {
            snprintf(msg, sizeof(msg),
                     "already subscribed to channel %u; ignored",
                     (unsigned)r->channel_id[i]);
            fg_status(live, c, SCN_FG_WARNING, msg);
            continue;
        }
        if (c->nsubs == FG_SUBS_MAX) {
            fg_status(live, c, SCN_FG_ERROR,
                      "too many subscriptions (at most 64)");
            continue;
        }
        c->subs[c->nsubs].sub_id = r->sub_id[i];
        c->subs[c->nsubs].channel_id = r->channel_id[i];
        c->nsubs++;
    }
    if (c->nsubs && !c->subscribed_once) {
        /* It may only read from now on: the idle timeout is for clients
         * that never subscribe. */
        c->subscribed_once = true;
        scn_server_conn_set_idle_timeout(c->conn, 0);
    }
}

/* Caller holds mu. */
static void fg_unsubscribe(scn_live *live, fg_client *c,
                           const scn_fg_request *r)
{
    char msg[96];

    for (size_t i = 0; i < r->n; i++) {
        int at = find_sub(c, r->sub_id[i]);

        if (at < 0) {
            snprintf(msg, sizeof(msg), "no subscription %u; ignored",
                     (unsigned)r->sub_id[i]);
            fg_status(live, c, SCN_FG_WARNING, msg);
            continue;
        }
        c->subs[at] = c->subs[--c->nsubs];
    }
}

static void fg_message(scn_live *live, fg_client *c, const void *data,
                       size_t len, int is_binary)
{
    scn_fg_request r;
    char msg[160];

    scn__fg_request_parse(data, len, is_binary != 0, &r);
    pthread_mutex_lock(&live->mu);
    switch (r.op) {
    case SCN_FG_SUBSCRIBE:
        fg_subscribe(live, c, &r);
        break;
    case SCN_FG_UNSUBSCRIBE:
        fg_unsubscribe(live, c, &r);
        break;
    case SCN_FG_UNSUPPORTED:
        snprintf(msg, sizeof(msg),
                 "%s is not supported: this server only publishes", r.name);
        fg_status(live, c, SCN_FG_ERROR, msg);
        break;
    default:
        snprintf(msg, sizeof(msg), "bad request (%s): %s",
                 r.name[0] ? r.name : "no op", r.why);
        fg_status(live, c, SCN_FG_ERROR, msg);
        break;
    }
    pthread_mutex_unlock(&live->mu);
}

static void fg_close(scn_live *live, fg_client *c)
{
    pthread_mutex_lock(&live->mu);
    for (fg_client **pp = &live->clients; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    pthread_mutex_unlock(&live->mu);
    scn_server_conn_set_user(c->conn, NULL);
    free(c);
}

/* A Foxglove client's first drop after it had caught up: say so. */
static void fg_slow(scn_live *live, fg_client *c)
{
    scn_server_conn_stats cs;
    char msg[128];

    scn_server_conn_get_stats(c->conn, &cs);
    pthread_mutex_lock(&live->mu);
    snprintf(msg, sizeof(msg),
             "too slow: %llu oldest messages dropped (%llu in all)",
             (unsigned long long)(cs.dropped - c->dropped_notified),
             (unsigned long long)cs.dropped);
    c->dropped_notified = cs.dropped;
    fg_status(live, c, SCN_FG_WARNING, msg);
    pthread_mutex_unlock(&live->mu);
}

/* ------------------------------------------------------------------ */
/* The server's callbacks: by route                                    */
/* ------------------------------------------------------------------ */

static int on_connect(scn_server *srv, scn_server_conn *conn, const char *peer,
                      const char *path, void *user)
{
    scn_live *live = user;

    (void)srv;
    (void)path;
    if (!live)
        return 1;
    if (scn_server_conn_route(conn) == ROUTE_LIVE)
        return scn__fanout_conn_connect(live->fo, conn, peer);
    return fg_connect(live, conn);
}

static void on_message(scn_server *srv, scn_server_conn *conn, const void *data,
                       size_t len, int is_binary, void *user)
{
    scn_live *live = user;
    void *c = scn_server_conn_get_user(conn);

    (void)srv;
    if (!live || !c)
        return;
    if (scn_server_conn_route(conn) == ROUTE_LIVE)
        scn__fanout_conn_message(live->fo, conn, data, len, is_binary);
    else
        fg_message(live, c, data, len, is_binary);
}

static void on_close(scn_server *srv, scn_server_conn *conn, int code,
                     void *user)
{
    scn_live *live = user;
    void *c = scn_server_conn_get_user(conn);

    (void)srv;
    (void)code;
    if (!live || !c)
        return;
    if (scn_server_conn_route(conn) == ROUTE_LIVE)
        scn__fanout_conn_close(live->fo, conn);
    else
        fg_close(live, c);
}

static void on_error(scn_server *srv, scn_server_conn *conn, int err,
                     const char *detail, void *user)
{
    scn_live *live = user;
    void *c = conn ? scn_server_conn_get_user(conn) : NULL;

    (void)srv;
    (void)detail;
    if (!live || !c || err != SCN_ERR_QUEUE_FULL)
        return;
    if (scn_server_conn_route(conn) == ROUTE_LIVE)
        scn__fanout_conn_error(live->fo, conn, err);
    else
        fg_slow(live, c);
}

/* ------------------------------------------------------------------ */
/* API                                                                 */
/* ------------------------------------------------------------------ */

static void live_discard(scn_live *live)
{
    while (live->channels) {
        channel *c = live->channels;

        live->channels = c->next;
        free(c->topic);
        free(c->schema_name);
        free(c->schema);
        free(c);
    }
    pthread_mutex_destroy(&live->mu);
    free(live->name);
    free(live);
}

int scn_live_new(scn_loop *loop, const scn_live_options *opts, scn_live **out)
{
    scn_server_route routes[2];
    scn_server_options so;
    scn_live_options d, own;
    scn_live *live;
    int rc;

    if (!out)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    if (!loop || !opts)
        return SCN_ERR_INVALID_ARG;
    live_defaults(&d);
    own = d;
    if ((rc = scn_options_take(&own, sizeof(own), LIVE_OPTIONS_V0, opts)))
        return rc;
    opts = &own;
    live = calloc(1, sizeof(*live));
    if (!live)
        return SCN_ERR_NOMEM;
    pthread_mutex_init(&live->mu, NULL);
    live->next_id = 1;
    live->name = strdup(opts->name ? opts->name : "scentience");
    /* A new session id per listener: Foxglove tells a restart apart. */
    snprintf(live->session, sizeof(live->session), "%lld",
             (long long)time(NULL));
    if (!live->name) {
        live_discard(live);
        return SCN_ERR_NOMEM;
    }
    routes[ROUTE_LIVE].path = SCN_FANOUT_PATH;
    routes[ROUTE_LIVE].subprotocols = live_protocols;
    routes[ROUTE_LIVE].subprotocol_count = 1;
    routes[ROUTE_FOXGLOVE].path = "/";
    routes[ROUTE_FOXGLOVE].subprotocols = fg_protocols;
    routes[ROUTE_FOXGLOVE].subprotocol_count = 2;

    scn_server_options_init(&so);
    so.bind_address = opts->bind_address;
    so.port = opts->port;
    so.allow = opts->allow;
    so.allow_count = opts->allow_count;
    so.routes = routes;
    so.route_count = 2;
    so.assets = opts->assets;
    so.asset_count = opts->asset_count;
    so.token = opts->token;
    so.origins = opts->origins;
    so.origin_count = opts->origin_count;
    so.tls_cert_file = opts->tls_cert_file;
    so.tls_key_file = opts->tls_key_file;
    so.max_message_bytes = MAX_REQUEST_BYTES;
#define OR(field) (opts->field ? opts->field : d.field)
    so.max_connections = OR(max_connections);
    so.max_per_address = OR(max_per_address);
    so.idle_timeout_ms = OR(idle_timeout_ms);
    so.ping_interval_ms = OR(ping_interval_ms);
    so.queue_msgs = OR(queue_msgs);
    so.queue_bytes = OR(queue_bytes);
    so.slow_disconnect_ms = OR(slow_disconnect_ms);
#undef OR
    so.write_interval_ms = opts->flush_interval_ms;
    /* A dashboard that stops reading must show up as slow within seconds,
     * not after the kernel buffered megabytes for it. */
    so.socket_send_buffer = 64 * 1024;
    so.callbacks.on_connect = on_connect;
    so.callbacks.on_message = on_message;
    so.callbacks.on_close = on_close;
    so.callbacks.on_error = on_error;
    so.user = live;
    rc = scn_server_new(loop, &so, &live->srv);
    if (!rc && !(live->fo = scn__fanout_attach(live->srv)))
        rc = SCN_ERR_NOMEM;
    if (rc) {
        scn_server_free(live->srv);
        live_discard(live);
        return rc;
    }
    *out = live;
    return 0;
}

void scn_live_free(scn_live *live)
{
    if (!live)
        return;
    /* The server may call back later (a free inside a callback is
     * deferred): it must find nothing of ours. */
    scn__server_clear_user(live->srv);
    scn__fanout_detach(live->fo);
    pthread_mutex_lock(&live->mu);
    while (live->clients) {
        fg_client *c = live->clients;

        live->clients = c->next;
        scn_server_conn_set_user(c->conn, NULL);
        free(c);
    }
    pthread_mutex_unlock(&live->mu);
    scn_server_free(live->srv);
    live_discard(live);
}

int scn_live_close_all(scn_live *live)
{
    return live ? scn_server_close_all(live->srv, 1001, "going away") : 0;
}

int scn_live_port(const scn_live *live)
{
    return live ? scn_server_port(live->srv) : 0;
}

static bool topic_ok(const char *t)
{
    return t && t[0] == '/' && strlen(t) <= TOPIC_MAX;
}

int scn_live_channel_add(scn_live *live, const char *topic,
                         const char *schema_name, const char *schema_json,
                         uint32_t *id)
{
    scn_fg_channel fc;
    channel *c, **pp;
    char *text;

    if (!live || !topic_ok(topic) || !schema_name || !schema_json || !id)
        return SCN_ERR_INVALID_ARG;
    pthread_mutex_lock(&live->mu);
    for (pp = &live->channels; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->topic, topic) == 0) {
            pthread_mutex_unlock(&live->mu);
            return SCN_ERR_STATE;
        }
    }
    c = calloc(1, sizeof(*c));
    if (!c || !(c->topic = strdup(topic)) ||
        !(c->schema_name = strdup(schema_name)) ||
        !(c->schema = strdup(schema_json))) {
        pthread_mutex_unlock(&live->mu);
        if (c) {
            free(c->topic);
            free(c->schema_name);
        }
        free(c);
        return SCN_ERR_NOMEM;
    }
    c->id = live->next_id++;
    *pp = c;
    fc.id = c->id;
    fc.topic = c->topic;
    fc.schema_name = c->schema_name;
    fc.schema = c->schema;
    text = scn__fg_advertise(&fc, 1);
    for (fg_client *cl = live->clients; cl && text; cl = cl->next)
        scn_server_conn_send(cl->conn, text, strlen(text), 0);
    free(text);
    pthread_mutex_unlock(&live->mu);
    *id = c->id;
    return 0;
}

int scn_live_channel_remove(scn_live *live, uint32_t id)
{
    channel *c = NULL;
    char *text;

    if (!live)
        return SCN_ERR_INVALID_ARG;
    pthread_mutex_lock(&live->mu);
    for (channel **pp = &live->channels; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            c = *pp;
            *pp = c->next;
            break;
        }
    }
    if (!c) {
        pthread_mutex_unlock(&live->mu);
        return SCN_ERR_NOT_FOUND;
    }
    text = scn__fg_unadvertise(&id, 1);
    for (fg_client *cl = live->clients; cl; cl = cl->next) {
        /* Its subscriptions end with it. */
        for (size_t i = 0; i < cl->nsubs;) {
            if (cl->subs[i].channel_id == id)
                cl->subs[i] = cl->subs[--cl->nsubs];
            else
                i++;
        }
        if (text)
            scn_server_conn_send(cl->conn, text, strlen(text), 0);
    }
    free(text);
    pthread_mutex_unlock(&live->mu);
    free(c->topic);
    free(c->schema_name);
    free(c->schema);
    free(c);
    return 0;
}

/*
 * What one publish sends: json[0..len) as given, or a frame whose
 * canonical JSON (strict JSON by construction: written, never parsed) is
 * written the first time a subscriber wants it, so a frame nobody watches
 * costs no writing.
 */
typedef struct payload {
    const scn_frame *frame; /* NULL: json was given */
    const char *json;
    size_t len;
    scn_jw w;
    char *small; /* the caller's buffer for a frame's text, small_cap bytes */
    size_t small_cap;
} payload;

/* The payload's text (scn_fanout_text_fn): 0 or SCN_ERR_NOMEM. */
static int payload_text(void *arg, const char **json, size_t *len)
{
    payload *p = arg;

    if (!p->json) {
        p->w = (scn_jw){.buf = p->small, .cap = p->small_cap};
        scn__frame_write(&p->w, p->frame);
        if (p->w.len > p->w.cap) {
            p->w = (scn_jw){.grow = true};
            scn__frame_write(&p->w, p->frame);
            if (p->w.oom) {
                free(p->w.buf);
                p->w.buf = NULL;
                return SCN_ERR_NOMEM;
            }
        }
        p->json = p->w.buf;
        p->len = p->w.len;
    }
    *json = p->json;
    *len = p->len;
    return 0;
}

static int publish_valid(scn_live *live, uint32_t channel_id,
                         const char *stream, uint64_t time_ns, payload *p);

/* The arguments every publish call takes, json aside. */
static bool publish_args_ok(const scn_live *live, uint32_t channel_id,
                            const char *stream)
{
    return live && (channel_id || stream) &&
           (!stream || scn__fanout_stream_name_ok(stream, strlen(stream)));
}

int scn_live_publish(scn_live *live, uint32_t channel_id, const char *stream,
                     uint64_t time_ns, const char *json, size_t len)
{
    payload p = {.json = json, .len = len};

    if (!json || !publish_args_ok(live, channel_id, stream))
        return SCN_ERR_INVALID_ARG;
    if (!scn__json_value_ok(json, len))
        return SCN_ERR_MALFORMED;
    return publish_valid(live, channel_id, stream, time_ns, &p);
}

int scn_live_publish_checked(scn_live *live, uint32_t channel_id,
                             const char *stream, uint64_t time_ns,
                             const char *json, size_t len)
{
    payload p = {.json = json, .len = len};

    if (!json || !publish_args_ok(live, channel_id, stream))
        return SCN_ERR_INVALID_ARG;
    return publish_valid(live, channel_id, stream, time_ns, &p);
}

int scn_live_publish_frame(scn_live *live, uint32_t channel_id,
                           const char *stream, uint64_t time_ns,
                           const scn_frame *frame)
{
    char small[2048];
    payload p = {.frame = frame, .small = small, .small_cap = sizeof(small)};
    int rc;

    if (!frame || !publish_args_ok(live, channel_id, stream))
        return SCN_ERR_INVALID_ARG;
    rc = publish_valid(live, channel_id, stream, time_ns, &p);
    if (p.w.buf != p.small)
        free(p.w.buf);
    return rc;
}

/* scn_live_publish() of a payload known to be one valid JSON value. */
static int publish_valid(scn_live *live, uint32_t channel_id,
                         const char *stream, uint64_t time_ns, payload *p)
{
    unsigned char prefix[SCN_FG_MESSAGE_PREFIX];
    scn_server_batch b;
    scn_shmsg *m = NULL;
    const char *json;
    size_t len;
    int count = 0, err = 0, rc;

    pthread_mutex_lock(&live->mu);
    if (channel_id && !find_channel(live, channel_id)) {
        pthread_mutex_unlock(&live->mu);
        return SCN_ERR_NOT_FOUND;
    }
    live->published++;
    for (fg_client *c = live->clients; c && channel_id; c = c->next) {
        for (size_t i = 0; i < c->nsubs; i++) {
            if (c->subs[i].channel_id != channel_id)
                continue;
            /* The payload once for every client; each has its own
             * subscription id in front. */
            if (!m) {
                if ((err = payload_text(p, &json, &len)) != 0)
                    break;
                if (!(m = scn__shmsg_new(json, len))) {
                    err = SCN_ERR_NOMEM;
                    break;
                }
                scn__server_batch_begin(live->srv, &b);
                /* The time is the same for every client: only the
                 * subscription id in the prefix changes. */
                scn__fg_message_prefix(prefix, 0, time_ns);
            }
            scn__fg_prefix_set_sub(prefix, c->subs[i].sub_id);
            rc = scn__server_batch_push(&b, c->conn, m, 1, prefix,
                                        sizeof(prefix));
            if (rc == 0) {
                count++;
                live->delivered++;
            } else if (rc != SCN_ERR_STATE) {
                err = rc;
            }
        }
    }
    if (m)
        scn__server_batch_end(&b);
    pthread_mutex_unlock(&live->mu);
    scn__shmsg_unref(m);
    if (stream) {
        if (p->json)
            rc = scn__fanout_publish_valid(live->fo, stream, p->json, p->len);
        else
            rc = scn__fanout_publish_text(live->fo, stream,
                                          scn__frame_write_max(p->frame),
                                          payload_text, p);
        if (rc >= 0)
            count += rc;
        else
            err = rc;
    }
    return err ? err : count;
}

void scn_live_get_stats(scn_live *live, scn_live_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof(*out));
    if (!live)
        return;
    scn_fanout_get_stats(live->fo, &out->live);
    scn_server_get_stats(live->srv, &out->server);
    pthread_mutex_lock(&live->mu);
    for (fg_client *c = live->clients; c; c = c->next) {
        out->foxglove_clients++;
        out->foxglove_subscriptions += c->nsubs;
    }
    out->foxglove_delivered = live->delivered;
    out->foxglove_bad_requests = live->bad_requests;
    out->published = live->published;
    pthread_mutex_unlock(&live->mu);
}
