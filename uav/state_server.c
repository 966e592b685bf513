/* The app's state server: scn_server + state-string parsing + staleness. */
#include <pthread.h>
#include <scentience/error.h>
#include <scentience/server.h>
#include <scentience/timer.h>
#include <scentience/uav_state_server.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "drone_peer.h"

struct scn_uav_state_server {
    scn_loop *loop;
    scn_server *srv;
    scn_timer *stale_timer;
    scn_uav_state_server_options opts;
    bool stale;
    pthread_mutex_t mu; /* latest, latest_at, has_latest, stats */
    scn_uav_state latest;
    uint64_t latest_at;
    bool has_latest;
    scn_uav_state_stats stats;
};

/* The first version's last field: the smallest struct_size accepted. */
#define STATE_SERVER_OPTIONS_V0                                                \
    SCN_OPTIONS_END(scn_uav_state_server_options, user)

static void state_server_defaults(scn_uav_state_server_options *o)
{
    memset(o, 0, sizeof(*o));
    o->bind_address = "0.0.0.0";
    o->port = 8890;
    o->stale_ms = 1000;
}

void scn_uav_state_server_options_init_sized(scn_uav_state_server_options *o,
                                             size_t size)
{
    scn_uav_state_server_options d;

    state_server_defaults(&d);
    scn_options_give(o, size, &d, sizeof(d));
}

static void on_stale_timer(scn_timer *t, void *user)
{
    scn_uav_state_server *s = user;

    (void)t;
    s->stale = true;
    pthread_mutex_lock(&s->mu);
    s->stats.stale_events++;
    pthread_mutex_unlock(&s->mu);
    if (s->opts.on_stale)
        s->opts.on_stale(s, 1, s->opts.user);
}

static void on_message(scn_server *srv, scn_server_conn *conn, const void *data,
                       size_t len, int is_binary, void *user)
{
    scn_uav_state_server *s = user;
    scn_uav_state st;
    int rc;

    (void)srv;
    (void)conn;
    rc = is_binary ? SCN_ERR_MALFORMED : scn_uav_state_parse(data, len, &st);
    if (rc) {
        /* Counted and dropped: one garbled string never costs the link. */
        pthread_mutex_lock(&s->mu);
        s->stats.malformed++;
        pthread_mutex_unlock(&s->mu);
        if (s->opts.on_error)
            s->opts.on_error(s, rc, "malformed state string dropped",
                             s->opts.user);
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->latest = st;
    s->latest_at = scn_loop_now_ms(s->loop);
    s->has_latest = true;
    s->stats.received++;
    pthread_mutex_unlock(&s->mu);
    scn_timer_start(s->stale_timer, s->opts.stale_ms);
    if (s->stale) {
        s->stale = false;
        if (s->opts.on_stale)
            s->opts.on_stale(s, 0, s->opts.user);
    }
    if (s->opts.on_state)
        s->opts.on_state(s, &st, s->opts.user);
}

static int on_connect(scn_server *srv, scn_server_conn *conn, const char *peer,
                      const char *path, void *user)
{
    scn_uav_state_server *s = user;

    (void)srv;
    (void)conn;
    (void)peer;
    (void)path;
    pthread_mutex_lock(&s->mu);
    s->stats.connections++;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int scn_uav_state_server_new(scn_loop *loop,
                             const scn_uav_state_server_options *o,
                             scn_uav_state_server **out)
{
    scn_uav_state_server *s;
    scn_uav_state_server_options own;
    scn_server_options so;
    scn_uav_drone_peers peers;
    int rc;

    if (!loop || !o || !out)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    state_server_defaults(&own);
    if ((rc = scn_options_take(&own, sizeof(own), STATE_SERVER_OPTIONS_V0, o)))
        return rc;
    o = &own;
    if (!o->allow_any_peer &&
        (rc = scn__uav_drone_peers(o->drone_url, o->allow_peer, &peers)) != 0)
        return rc;
    s = calloc(1, sizeof(*s));
    if (!s)
        return SCN_ERR_NOMEM;
    s->loop = loop;
    s->opts = *o;
    if (!s->opts.stale_ms)
        s->opts.stale_ms = 1000;
    pthread_mutex_init(&s->mu, NULL);
    scn_server_options_init(&so);
    so.bind_address = o->bind_address;
    so.port = o->port;
    if (!o->allow_any_peer) {
        so.allow = peers.list;
        so.allow_count = peers.count;
    }
    /* State strings are small; a drone that sends more is broken. */
    so.max_message_bytes = 4096;
    /* Slots cannot be held (docs/PROTOCOL.md 8.5): a connection that
     * sends no state for five stale periods is closed; a silent one is
     * pinged and cut off when it does not answer (a link that died
     * without a close); and a reconnecting drone takes the place of a
     * connection from its address that has been silent for a stale
     * period, so it is let in at once even when every slot is held. */
    so.max_connections = 8;
    so.max_per_address = 4;
    so.idle_timeout_ms = 5 * s->opts.stale_ms;
    so.ping_interval_ms = s->opts.stale_ms;
    so.pong_timeout_ms = 2 * s->opts.stale_ms;
    so.evict_idle_ms = s->opts.stale_ms;
    so.callbacks.on_connect = on_connect;
    so.callbacks.on_message = on_message;
    so.user = s;
    if ((rc = scn_timer_new(loop, on_stale_timer, s, &s->stale_timer)) ||
        (rc = scn_server_new(loop, &so, &s->srv))) {
        scn_timer_free(s->stale_timer);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void scn_uav_state_server_free(scn_uav_state_server *s)
{
    if (!s)
        return;
    scn_server_free(s->srv);
    scn_timer_free(s->stale_timer);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int scn_uav_state_server_port(const scn_uav_state_server *s)
{
    return s ? scn_server_port(s->srv) : 0;
}

int scn_uav_state_server_latest(scn_uav_state_server *s, scn_uav_state *out,
                                uint64_t *age_ms)
{
    int rc = SCN_ERR_ABSENT;

    if (!s || !out)
        return SCN_ERR_INVALID_ARG;
    pthread_mutex_lock(&s->mu);
    if (s->has_latest) {
        *out = s->latest;
        if (age_ms)
            *age_ms = scn_loop_now_ms(s->loop) - s->latest_at;
        rc = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void scn_uav_state_server_get_stats(scn_uav_state_server *s,
                                    scn_uav_state_stats *out)
{
    scn_server_stats ss;

    if (!s || !out)
        return;
    scn_server_get_stats(s->srv, &ss);
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
    out->refused_peers = ss.refused_address;
}
